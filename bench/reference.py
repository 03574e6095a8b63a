"""Reference annotations and frame-level scoring on a 10 ms grid (benchmarks and tests)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HOP_S = 0.01


@dataclass(frozen=True)
class RefTurn:
    start_s: float
    end_s: float
    speaker: str


def read_rttm(path: Path, file_id: str | None = None) -> list[RefTurn]:
    """Speaker turns of an RTTM file (of ``file_id`` when it holds several recordings), read by
    the app's own reader (:func:`esergui.formats.lines.read_rttm`)."""
    from esergui.formats.lines import read_rttm as read

    return [RefTurn(a.start_s, a.end_s, str(a.speaker)) for a in read(path, file_id)]


def frames(spans: Iterable[tuple[float, float]], duration_s: float, hop_s: float = HOP_S) -> np.ndarray:
    """Boolean activity on a ``hop_s`` grid: ``(ceil(duration_s / hop_s),)``."""
    n = int(np.ceil(duration_s / hop_s))
    out = np.zeros(n, bool)
    for start, end in spans:
        a, b = int(round(start / hop_s)), int(round(end / hop_s))
        out[max(0, a) : max(0, min(n, b))] = True
    return out


def speech_prf(ref: np.ndarray, hyp: np.ndarray) -> tuple[float, float, float]:
    """Frame-level precision, recall and F1 of ``hyp`` against ``ref`` (boolean arrays)."""
    n = min(len(ref), len(hyp))
    ref, hyp = ref[:n], hyp[:n]
    tp = float(np.sum(ref & hyp))
    precision = tp / max(1.0, float(np.sum(hyp)))
    recall = tp / max(1.0, float(np.sum(ref)))
    f1 = 2 * precision * recall / max(1e-12, precision + recall)
    return precision, recall, f1


def label_frames(spans: Sequence[tuple[float, float, str]], duration_s: float, hop_s: float = HOP_S) -> np.ndarray:
    """Object array of labels per frame (``None`` where nobody speaks; later spans win)."""
    n = int(np.ceil(duration_s / hop_s))
    out = np.full(n, None, dtype=object)
    for start, end, label in spans:
        a, b = int(round(start / hop_s)), int(round(end / hop_s))
        out[max(0, a) : max(0, min(n, b))] = label
    return out
