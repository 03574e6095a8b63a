"""Waveform drawing data with min/max decimation (numpy only, no Qt).

A whole-lesson :class:`Envelope` (min and max of every 256-sample block, ~0.5 MB per hour) is
computed once in the background; a view asks :func:`visible_waveform` for at most ~2 points per
pixel: raw samples when zoomed in, min/max of raw samples for medium ranges, min/max of envelope
blocks for long ranges. A 3-hour lesson never has to be in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from esergui.audio.locked import LockedSource
from esergui.progress import CancelToken, ProgressCallback, check, report

BLOCK = 256  # samples per envelope block (16 ms at 16 kHz)


@dataclass
class Envelope:
    """``mins``/``maxs``: ``(ceil(n_samples / block),)`` float32 per block of ``block`` samples."""

    mins: np.ndarray
    maxs: np.ndarray
    block: int
    sample_rate: int


def compute_envelope(
    source: LockedSource,
    block: int = BLOCK,
    chunk_s: float = 30.0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Envelope:
    """Stream ``source`` once in chunks of ``chunk_s`` and keep min/max per ``block`` samples."""
    n = source.n_samples
    n_blocks = -(-n // block)
    mins = np.zeros(n_blocks, np.float32)
    maxs = np.zeros(n_blocks, np.float32)
    step = max(block, int(chunk_s * source.sample_rate) // block * block)
    for a in range(0, n, step):
        check(cancel)
        b = min(n, a + step)
        x = source.read(a, b)
        pad = (-len(x)) % block
        if pad:
            x = np.concatenate([x, np.full(pad, x[-1] if len(x) else 0.0, np.float32)])
        x = x.reshape(-1, block)
        mins[a // block : a // block + len(x)] = x.min(axis=1)
        maxs[a // block : a // block + len(x)] = x.max(axis=1)
        report(progress, b / max(1, n), "waveform")
    return Envelope(mins, maxs, block, source.sample_rate)


def _minmax_lines(t0: float, bucket_s: float, mins: np.ndarray, maxs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.repeat(t0 + (np.arange(len(mins)) + 0.5) * bucket_s, 2)
    y = np.empty(2 * len(mins), np.float32)
    y[0::2] = mins
    y[1::2] = maxs
    return x, y


def visible_waveform(
    source: LockedSource | None, envelope: Envelope | None, t0: float, t1: float, width_px: int, max_raw_s: float = 30.0
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(x seconds, y amplitude)`` to draw ``[t0, t1]`` on ``width_px`` pixels.

    Returns empty arrays when nothing can be drawn yet (no source, or a long range before the
    envelope exists)."""
    empty = np.zeros(0), np.zeros(0, np.float32)
    if source is None or t1 <= t0:
        return empty
    sr = source.sample_rate
    t0 = max(0.0, t0)
    t1 = min(t1, source.duration_s)
    a, b = int(t0 * sr), int(np.ceil(t1 * sr))
    n = b - a
    width_px = max(16, int(width_px))
    if n <= 0:
        return empty
    if n <= 2 * width_px:
        y = source.read(a, b)
        return (a + np.arange(n)) / sr, y
    per_px = n / width_px
    if envelope is None or per_px < envelope.block:
        if n > max_raw_s * sr:
            return empty
        y = source.read(a, b)
        k = int(np.ceil(per_px))
        starts = np.arange(0, n, k)
        return _minmax_lines(a / sr, k / sr, np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts))
    blk = envelope.block
    ba, bb = a // blk, min(len(envelope.mins), -(-b // blk))
    if bb <= ba:
        return empty
    k = max(1, -(-(bb - ba) // width_px))  # blocks per bucket: at most width_px buckets
    starts = np.arange(0, bb - ba, k)
    mins = np.minimum.reduceat(envelope.mins[ba:bb], starts)
    maxs = np.maximum.reduceat(envelope.maxs[ba:bb], starts)
    return _minmax_lines(ba * blk / sr, k * blk / sr, mins, maxs)
