"""Cutting segments into analysis windows and embedding them, block by block.

A segment shorter than ``1.5 * window_s`` is one window; a longer one is cut into
``round(duration / window_s)`` equal windows (so every window is 0.75-1.5 x ``window_s``, except
whole short segments). Audio is read per batch of windows, so memory stays bounded whatever the
lesson's length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from esergui.audio import AudioSource
from esergui.progress import check
from esergui.speakers.encoder import SR, VoiceEncoder

#: Clips shorter than this are repeated up to it before embedding (helps sub-second answers).
MIN_EMBED_S = 1.0


@dataclass
class Windows:
    """Analysis windows of a lesson (``N`` windows, times in seconds)."""

    start_s: np.ndarray  # (N,) float64
    end_s: np.ndarray  # (N,) float64
    segment: np.ndarray  # (N,) int: index of the segment the window belongs to
    embedding: np.ndarray  # (N, D) float32, L2-normalised
    level_db: np.ndarray  # (N,) float32: loudness of the window's voiced part, dBFS

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_s - self.start_s

    def __len__(self) -> int:
        return len(self.start_s)


def cut_windows(
    segments: Sequence[Any], window_s: float, duration_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(start_s, end_s, segment_index)`` of the windows covering ``segments`` (clipped to the audio)."""
    starts: list[float] = []
    ends: list[float] = []
    owner: list[int] = []
    for k, seg in enumerate(segments):
        a, b = max(0.0, float(seg.start_s)), min(duration_s, float(seg.end_s))
        if b - a <= 0.0:
            continue
        n = 1 if b - a < 1.5 * window_s else int(round((b - a) / window_s))
        edges = np.linspace(a, b, n + 1)
        starts.extend(edges[:-1])
        ends.extend(edges[1:])
        owner.extend([k] * n)
    return np.asarray(starts, float), np.asarray(ends, float), np.asarray(owner, int)


def voiced_level_db(clip: np.ndarray) -> float:
    """Loudness of a clip's voiced part: the 90th percentile of its 20 ms frame levels, dBFS."""
    hop = SR // 50
    n = len(clip) // hop
    if n == 0:
        return float(10 * np.log10(np.mean(clip.astype(np.float64) ** 2) + 1e-12))
    frames = clip[: n * hop].astype(np.float64).reshape(n, hop)
    return float(np.percentile(10 * np.log10(np.mean(frames**2, axis=1) + 1e-12), 90))


def _resample(clip: np.ndarray, rate: int) -> np.ndarray:
    if rate == SR:
        return clip
    import soxr

    return soxr.resample(clip, rate, SR).astype(np.float32)


def embed_windows(
    source: AudioSource,
    segments: Sequence[Any],
    window_s: float,
    encoder: VoiceEncoder | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: Any = None,
    batch: int = 128,
) -> Windows:
    """Cut ``segments`` into windows, read them from ``source`` and embed them."""
    encoder = encoder or VoiceEncoder.shared()
    rate = int(source.sample_rate)
    duration_s = source.n_samples / rate
    start_s, end_s, owner = cut_windows(segments, window_s, duration_s)
    n = len(start_s)
    emb = np.zeros((n, encoder.dim), np.float32)
    level = np.zeros(n, np.float32)
    for b0 in range(0, n, batch):
        check(cancel)
        clips = []
        for i in range(b0, min(n, b0 + batch)):
            clip = np.asarray(source.read(int(round(start_s[i] * rate)), int(round(end_s[i] * rate))), np.float32)
            if clip.ndim != 1:
                clip = clip.mean(axis=1) if clip.ndim == 2 else clip.reshape(-1)
            clip = _resample(clip, rate)
            level[i] = voiced_level_db(clip)
            if 0 < len(clip) < MIN_EMBED_S * SR:
                clip = np.tile(clip, int(np.ceil(MIN_EMBED_S * SR / len(clip))))
            clips.append(clip)
        emb[b0 : b0 + len(clips)] = encoder.embed(clips)
        if progress is not None:
            progress(min(n, b0 + batch) / max(1, n), "speaker embeddings")
    return Windows(start_s, end_s, owner, emb, level)
