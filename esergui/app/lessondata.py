"""Plain-data view of one lesson for the plots and the table: parallel numpy columns.

The views never touch the workspace store directly; :func:`esergui.app.adapters.lesson_data`
builds a :class:`LessonData` from the store's records, tests and benchmarks build one from
arrays. Times are seconds from the start of the lesson; rows are sorted by ``start``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np

SAMPLE_RATE = 16000


class AudioLike(Protocol):
    """What the views need from an audio source: mono float32 at ``sample_rate`` by sample range."""

    def read(self, start: int, stop: int) -> np.ndarray: ...


class LockedSource:
    """Wraps an :class:`AudioLike` so the GUI, the spectrogram worker and the playback callback
    can read it from different threads. ``read(start, stop)`` clips to ``[0, num_samples)`` and
    returns ``(stop - start,)`` float32 (zero-padded outside the recording)."""

    def __init__(self, source: AudioLike, num_samples: int, sample_rate: int = SAMPLE_RATE) -> None:
        self.source = source
        self.num_samples = int(num_samples)
        self.sample_rate = int(sample_rate)
        self._lock = threading.Lock()

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate

    def read(self, start: int, stop: int) -> np.ndarray:
        start, stop = int(start), int(stop)
        out = np.zeros(max(0, stop - start), dtype=np.float32)
        a, b = max(0, start), min(self.num_samples, stop)
        if b > a:
            with self._lock:
                data = np.asarray(self.source.read(a, b), dtype=np.float32).reshape(-1)
            out[a - start : a - start + len(data)] = data[: b - a]
        return out


    def gather(self, starts, width: int) -> np.ndarray:
        """``(len(starts), width)`` windows starting at ``starts`` (zero outside the recording);
        one vectorised read when the source offers ``gather``."""
        fast = getattr(self.source, "gather", None)
        if fast is not None:
            return np.asarray(fast(starts, width), dtype=np.float32)
        return np.stack([self.read(int(a), int(a) + width) for a in starts]) if len(starts) else np.zeros((0, width), np.float32)


class ArraySource:
    """An in-memory :class:`AudioLike` (tests, benchmarks, short recordings)."""

    def __init__(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
        self.samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.sample_rate = sample_rate

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.samples[max(0, start) : max(0, stop)]


@dataclass
class LessonData:
    """One lesson's utterances as columns (all ``(N,)``, sorted by ``start``).

    ``label`` indexes ``labels`` (-1: not recognised yet); ``confidence`` is the top class
    probability in ``[0, 1]`` (NaN when unknown); ``probs`` is ``(N, len(labels))`` or None.
    """

    name: str
    duration_s: float
    labels: tuple[str, ...]
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    speaker: np.ndarray
    role: np.ndarray
    annotated: np.ndarray
    ids: np.ndarray
    probs: np.ndarray | None = None
    lesson_id: int | str | None = None
    source: LockedSource | None = None
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(len(self.start))

    @classmethod
    def empty(cls, name: str = "", duration_s: float = 0.0, labels: Sequence[str] = ()) -> "LessonData":
        return cls.from_columns(name, duration_s, labels, start=[], end=[])

    @classmethod
    def from_columns(
        cls, name: str, duration_s: float, labels: Sequence[str], *, start: Sequence[float],
        end: Sequence[float], label: Sequence[int] | None = None, confidence: Sequence[float] | None = None,
        speaker: Sequence[str] | None = None, role: Sequence[str] | None = None,
        annotated: Sequence[bool] | None = None, ids: Sequence[int] | None = None,
        probs: np.ndarray | None = None, **kw,
    ) -> "LessonData":
        """Build from any sequences; missing columns get neutral defaults; rows get sorted."""
        n = len(start)
        cols = dict(
            start=np.asarray(start, dtype=np.float64).reshape(n),
            end=np.asarray(end, dtype=np.float64).reshape(n),
            label=np.asarray(label if label is not None else np.full(n, -1), dtype=np.int32).reshape(n),
            confidence=np.asarray(confidence if confidence is not None else np.full(n, np.nan), dtype=np.float32).reshape(n),
            speaker=np.asarray(speaker if speaker is not None else [""] * n, dtype=object).reshape(n),
            role=np.asarray(role if role is not None else [""] * n, dtype=object).reshape(n),
            annotated=np.asarray(annotated if annotated is not None else np.zeros(n, bool), dtype=bool).reshape(n),
            ids=np.asarray(ids if ids is not None else np.arange(n), dtype=np.int64).reshape(n),
        )
        p = None if probs is None else np.asarray(probs, dtype=np.float32).reshape(n, len(labels))
        order = np.argsort(cols["start"], kind="stable")
        if n and np.any(order != np.arange(n)):
            cols = {k: v[order] for k, v in cols.items()}
            p = None if p is None else p[order]
        return cls(name=name, duration_s=float(duration_s), labels=tuple(labels), probs=p, **cols, **kw)

    def row_of_id(self, uid: int) -> int:
        """Row index of utterance id ``uid`` (-1 if absent)."""
        hits = np.flatnonzero(self.ids == uid)
        return int(hits[0]) if hits.size else -1

    def label_name(self, row: int) -> str:
        k = int(self.label[row])
        return self.labels[k] if 0 <= k < len(self.labels) else ""

    def speakers(self) -> list[str]:
        """Distinct speakers, most talk time first."""
        if not len(self):
            return []
        talk: dict[str, float] = {}
        for s, d in zip(self.speaker, self.end - self.start):
            talk[str(s)] = talk.get(str(s), 0.0) + float(d)
        return sorted(talk, key=lambda s: (-talk[s], s))

    def roles(self) -> list[str]:
        """Distinct roles, teacher first."""
        present = {str(r) for r in self.role}
        order = [r for r in ("teacher", "student") if r in present]
        return order + sorted(present - set(order))
