"""Mel spectrogram tiles for the visible range, computed on demand and cached (numpy, no Qt).

Time is cut into tiles of :data:`COLS` columns. At level ``L`` a column spans
``hop(L) = 10 ms * 2**L``; the view picks the level whose column is about one pixel. Levels up
to :data:`DENSE_MAX_LEVEL` average every 10 ms frame inside a column (exact); higher levels
average :data:`SPARSE_WINDOWS` windows spread over the column, so a whole 3-hour lesson costs
a few thousand short reads instead of decoding three hours of audio.

Values are dB relative to full scale: a full-scale sine in one mel band reads about 0 dB.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from esergui.audio.decode import SAMPLE_RATE
from esergui.audio.locked import LockedSource

COLS = 256
BASE_HOP_S = 0.01
N_FFT = 512
WIN = 400
N_MELS = 80
F_MIN, F_MAX = 50.0, 8000.0
DENSE_MAX_LEVEL = 4
SPARSE_WINDOWS = 6
FLOOR_DB = -110.0
DEFAULT_LEVELS = (-95.0, -25.0)


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS, f_min: float = F_MIN, f_max: float = F_MAX
) -> np.ndarray:
    """``(n_mels, n_fft // 2 + 1)`` triangular HTK-mel filters with unit peak (display only)."""
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None, :] - lo) / (mid - lo)
    down = (hi - freqs[None, :]) / (hi - mid)
    return np.clip(np.minimum(up, down), 0.0, None).astype(np.float32)


def mel_bin_of_hz(f: float, n_mels: int = N_MELS) -> float:
    """Position (in bins, 0 = bottom edge) of frequency ``f`` on the display's mel axis."""
    m0, m1 = hz_to_mel(F_MIN), hz_to_mel(F_MAX)
    return float((hz_to_mel(f) - m0) / (m1 - m0) * (n_mels + 1) - 0.5)


def hop_s(level: int) -> float:
    return BASE_HOP_S * (2**level)


def tile_span_s(level: int) -> float:
    return COLS * hop_s(level)


def level_for(span_s: float, width_px: int) -> int:
    """The level whose column is at most about one pixel wide for ``span_s`` on ``width_px``."""
    per_px = span_s / max(1, width_px)
    return max(0, int(math.floor(math.log2(max(per_px, 1e-9) / BASE_HOP_S))))


class MelTiler:
    """Computes and caches ``(COLS, N_MELS)`` dB tiles of one source. Thread-safe."""

    def __init__(self, source: LockedSource, max_tiles: int = 400) -> None:
        self.source = source
        self.sr = source.sample_rate
        self.fb = mel_filterbank(self.sr)
        self.window = np.hanning(WIN + 2)[1:-1].astype(np.float32)
        self._norm = (self.window.sum() / 2) ** 2
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.max_tiles = max_tiles

    def cached(self, level: int, index: int) -> np.ndarray | None:
        with self._lock:
            tile = self._cache.get((level, index))
            if tile is not None:
                self._cache.move_to_end((level, index))
            return tile

    def tile(self, level: int, index: int) -> np.ndarray:
        """The tile, computed now if it is not cached."""
        hit = self.cached(level, index)
        if hit is not None:
            return hit
        tile = self._compute(level, index)
        with self._lock:
            self._cache[(level, index)] = tile
            while len(self._cache) > self.max_tiles:
                self._cache.popitem(last=False)
        return tile

    def n_tiles(self, level: int) -> int:
        return max(1, math.ceil(self.source.duration_s / tile_span_s(level)))

    def _power_db(self, frames: np.ndarray) -> np.ndarray:
        """``(k, WIN)`` windows -> ``(k, N_MELS)`` mel power in dB."""
        spec = np.fft.rfft(frames * self.window, n=N_FFT, axis=1)
        power = (spec.real**2 + spec.imag**2) / self._norm
        return power @ self.fb.T

    def _compute(self, level: int, index: int) -> np.ndarray:
        t0 = index * tile_span_s(level)
        base_hop = int(BASE_HOP_S * self.sr)
        if level <= DENSE_MAX_LEVEL:
            per_col = 2**level
            n_frames = COLS * per_col
            start = int(round(t0 * self.sr)) - WIN // 2 + base_hop // 2
            x = self.source.read(start, start + (n_frames - 1) * base_hop + WIN)
            frames = np.lib.stride_tricks.sliding_window_view(x, WIN)[::base_hop][:n_frames]
            mel = self._power_db(frames).reshape(COLS, per_col, -1).mean(axis=1)
        else:
            col = hop_s(level)
            offsets = (np.arange(SPARSE_WINDOWS) + 0.5) / SPARSE_WINDOWS * col
            centres = t0 + (np.arange(COLS)[:, None] * col + offsets[None, :]).reshape(-1)
            frames = self.source.gather(np.rint(centres * self.sr).astype(np.int64) - WIN // 2, WIN)
            mel = self._power_db(frames).reshape(COLS, SPARSE_WINDOWS, -1).mean(axis=1)
        db = 10.0 * np.log10(np.maximum(mel, 10 ** (FLOOR_DB / 10)))
        end_col = int(math.ceil((self.source.duration_s - t0) / hop_s(level)))
        if end_col < COLS:
            db[max(0, end_col) :] = np.nan
        return db.astype(np.float32)

    def assemble(self, t0: float, t1: float, level: int) -> tuple[np.ndarray, float, list[int]]:
        """Image ``(cols, N_MELS)`` covering ``[t0, t1]`` from cached tiles (NaN where missing),
        its start time, and the tile indices still missing."""
        span = tile_span_s(level)
        first = max(0, int(math.floor(t0 / span)))
        last = min(self.n_tiles(level) - 1, int(math.floor(max(t0, t1 - 1e-9) / span)))
        parts, missing = [], []
        for i in range(first, last + 1):
            tile = self.cached(level, i)
            if tile is None:
                missing.append(i)
                tile = np.full((COLS, N_MELS), np.nan, np.float32)
            parts.append(tile)
        image = np.concatenate(parts, axis=0) if parts else np.full((1, N_MELS), np.nan, np.float32)
        return image, first * span, missing
