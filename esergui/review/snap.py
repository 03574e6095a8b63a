"""Snapping dragged utterance edges to quiet points of the waveform (numpy only, no Qt).

A quiet point is a short-time energy frame (``frame_s``, RMS in dB re full scale) at most
``margin_db`` above the local noise floor (the 10th percentile of the frames within
``context_s`` of the edge). An edge dropped within ``radius_s`` of a quiet frame moves to the
nearest one; otherwise it stays where it was dropped. So an end dragged a little into a word
comes back to where the word stops, and a start dragged into a pause moves up to the speech.
"""

from __future__ import annotations

import numpy as np

from esergui.audio.source import AudioSource

FRAME_S = 0.01
FLOOR_DB = -100.0


def frame_energy_db(x: np.ndarray, sample_rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS energy of consecutive frames of ``x`` (``(n,)`` float32), in dB re full scale:
    ``(n // frame,)``, floored at -100 dB."""
    frame = max(1, int(round(frame_s * sample_rate)))
    n = len(x) // frame
    if n == 0:
        return np.zeros(0, np.float32)
    blocks = np.asarray(x[: n * frame], dtype=np.float64).reshape(n, frame)
    rms = np.sqrt(np.mean(blocks * blocks, axis=1))
    return np.maximum(20.0 * np.log10(np.maximum(rms, 1e-12)), FLOOR_DB).astype(np.float32)


def quiet_points(
    source: AudioSource,
    sample_rate: int,
    duration_s: float,
    t: float,
    context_s: float = 1.0,
    frame_s: float = FRAME_S,
    margin_db: float = 6.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(times (k,) seconds, energy_db (k,))`` of the quiet frames (frame centres) within
    ``context_s`` of ``t``."""
    a = max(0.0, t - context_s)
    b = min(duration_s, t + context_s)
    if b - a < 2 * frame_s:
        return np.zeros(0), np.zeros(0, np.float32)
    i0, i1 = int(a * sample_rate), int(b * sample_rate)
    x = np.asarray(source.read(i0, i1), dtype=np.float32).reshape(-1)
    db = frame_energy_db(x, sample_rate, frame_s)
    if not len(db):
        return np.zeros(0), db
    floor = float(np.percentile(db, 10))
    quiet = np.flatnonzero(db <= floor + margin_db)
    times = i0 / sample_rate + (quiet + 0.5) * frame_s
    return times, db[quiet]


def snap_edge(
    source: AudioSource | None,
    sample_rate: int,
    duration_s: float,
    t: float,
    radius_s: float,
    frame_s: float = FRAME_S,
    margin_db: float = 6.0,
) -> float:
    """``t`` moved to the nearest quiet point within ``radius_s`` (unchanged if none, or
    without audio). Seconds, clipped to ``[0, duration_s]``."""
    t = float(min(max(0.0, t), duration_s))
    if source is None or radius_s <= 0:
        return t
    times, _ = quiet_points(source, sample_rate, duration_s, t, max(1.0, 2 * radius_s), frame_s, margin_db)
    if not len(times):
        return t
    near = times[np.abs(times - t) <= radius_s]
    if not len(near):
        return t
    best = float(near[np.argmin(np.abs(near - t))])
    # a frame centre is within frame_s / 2 of the quiet frame's edge: keep the dropped
    # position when it already lies in that quiet frame
    return t if abs(best - t) <= frame_s / 2 else float(min(max(0.0, best), duration_s))
