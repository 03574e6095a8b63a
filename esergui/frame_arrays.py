"""Vectorised operations over per-frame arrays of the 10 ms decision grid (Qt-free, numpy).

The speech stage (:mod:`esergui.segment`) and the neural VAD's hysteresis
(:mod:`esergui.vad_silero`) decide on arrays of a million frames for a 3-hour lesson; these are
their loop-free building blocks: runs of a boolean array and back, bridging short gaps,
power-domain smoothing of dB energies, the sliding background level (Otsu) and splitting a
long run at its quietest frame.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = [
    "HOP_S",
    "background_stats",
    "bridge_runs",
    "mask_of_runs",
    "power_smooth_db",
    "split_at_quietest",
    "true_runs",
]

HOP_S = 0.01  # the decision grid: 10 ms frames
_CHUNK = 50  # background statistics are computed per 0.5 s chunk of frames
_DB_LO, _DB_HI, _DB_STEP = -110.0, 10.0, 0.5  # histogram of frame energies (dBFS)


def true_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def mask_of_runs(starts: np.ndarray, ends: np.ndarray, n: int) -> np.ndarray:
    """Boolean array of length ``n``, True inside every run ``[starts[i], ends[i])`` (runs may
    overlap; ends are clipped to ``n`` by the caller)."""
    delta = np.zeros(n + 1, np.int32)
    np.add.at(delta, starts, 1)
    np.add.at(delta, ends, -1)
    return np.cumsum(delta[:n]) > 0


def bridge_runs(starts: np.ndarray, ends: np.ndarray, min_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge runs separated by fewer than ``min_gap`` frames."""
    if starts.size < 2 or min_gap <= 0:
        return starts, ends
    keep_start = np.concatenate([[True], (starts[1:] - ends[:-1]) >= min_gap])
    keep_end = np.concatenate([keep_start[1:], [True]])
    return starts[keep_start], ends[keep_end]


def power_smooth_db(e: np.ndarray, width: int) -> np.ndarray:
    """Moving average of ``e`` (dB) in the power domain over ``width`` frames."""
    if width <= 1:
        return e
    p = ndimage.uniform_filter1d(np.power(10.0, e / 10.0), width, mode="nearest")
    return (10.0 * np.log10(np.maximum(p, 1e-12))).astype(np.float32)


def background_stats(energy_db: np.ndarray, window_s: float, one_class_db: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame background mean and std (dB) from Otsu splits of sliding-window histograms.

    Histograms of 0.5 dB bins are accumulated per 0.5 s chunk (cumulative sums over chunks) and
    differenced over ``window_s``, so the cost is linear in the recording's length and the memory
    ~20 MB per 3 hours. A window whose two classes are less than ``one_class_db`` apart holds no
    distinct foreground and counts wholly as background.
    """
    n = energy_db.size
    if n == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    n_chunks = -(-n // _CHUNK)
    nb = int((_DB_HI - _DB_LO) / _DB_STEP)
    bins = np.clip(((energy_db - _DB_LO) / _DB_STEP).astype(np.int32), 0, nb - 1)
    cum = np.zeros((n_chunks + 1, nb), np.float32)
    step = 2048  # chunks per slice (bounded temporaries)
    for c0 in range(0, n_chunks, step):
        c1 = min(n_chunks, c0 + step)
        f0, f1 = c0 * _CHUNK, min(n, c1 * _CHUNK)
        flat = (np.arange(f0, f1) // _CHUNK - c0) * nb + bins[f0:f1]
        hist = np.bincount(flat, minlength=(c1 - c0) * nb).reshape(c1 - c0, nb).astype(np.float32)
        np.cumsum(hist, axis=0, out=cum[c0 + 1 : c1 + 1])
        cum[c0 + 1 : c1 + 1] += cum[c0]
    half = max(1, int(round(window_s / 2 / (_CHUNK * HOP_S))))
    x = (_DB_LO + _DB_STEP * (np.arange(nb) + 0.5)).astype(np.float32)
    bg_mean = np.empty(n_chunks, np.float32)
    bg_std = np.empty(n_chunks, np.float32)
    for c0 in range(0, n_chunks, step):
        idx = np.arange(c0, min(n_chunks, c0 + step))
        win = cum[np.minimum(idx + half + 1, n_chunks)] - cum[np.maximum(idx - half, 0)]
        w0 = np.cumsum(win, axis=1)
        m0 = np.cumsum(win * x, axis=1)
        q0 = np.cumsum(win * (x * x), axis=1)
        tot, mt, qt = w0[:, -1:], m0[:, -1:], q0[:, -1:]
        w1 = tot - w0
        mu0 = m0 / np.maximum(w0, 1e-9)
        mu1 = (mt - m0) / np.maximum(w1, 1e-9)
        k = np.argmax(w0 * w1 * (mu0 - mu1) ** 2, axis=1)
        r = np.arange(idx.size)
        mean0 = mu0[r, k]
        var0 = q0[r, k] / np.maximum(w0[r, k], 1e-9) - mean0**2
        one = (mu1[r, k] - mean0) < one_class_db
        all_mean = mt[:, 0] / np.maximum(tot[:, 0], 1e-9)
        all_var = qt[:, 0] / np.maximum(tot[:, 0], 1e-9) - all_mean**2
        bg_mean[idx] = np.where(one, all_mean, mean0)
        bg_std[idx] = np.sqrt(np.maximum(np.where(one, all_var, var0), 0.0))
    return np.repeat(bg_mean, _CHUNK)[:n], np.repeat(bg_std, _CHUNK)[:n]


def split_at_quietest(a: int, b: int, smooth_e: np.ndarray, max_frames: int) -> list[tuple[int, int]]:
    """Split frames ``[a, b)`` at the quietest frame of the middle 60 % until all parts fit."""
    out, stack = [], [(a, b)]
    while stack:
        lo, hi = stack.pop()
        length = hi - lo
        if length <= max_frames:
            out.append((lo, hi))
            continue
        left, right = lo + max(1, int(0.2 * length)), hi - max(1, int(0.2 * length))
        cut = left + int(np.argmin(smooth_e[left:right]))
        stack.extend([(cut, hi), (lo, cut)])
    return sorted(out)
