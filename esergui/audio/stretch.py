"""Playback speed with the pitch kept: WSOLA time stretching (Verhelst & Roelands, 1993), in
numpy, streaming, cheap enough for the playback feeder thread.

Output frames of ``FRAME`` samples are overlap-added at a fixed hop with a Hann window; each
frame is taken from the input near ``speed`` times its output position, shifted by up to
``TOLERANCE`` samples to where it best continues the previous frame (highest cross-correlation),
so the waveform stays periodic and the pitch is that of the input. Speech at 0.5x-2x stays
intelligible; at 1x the input passes through unchanged.
"""

from __future__ import annotations

import numpy as np

FRAME = 640  # 40 ms at 16 kHz: two pitch periods of a low voice
HOP = FRAME // 2  # output hop (50 % overlap, Hann windows sum to one)
TOLERANCE = 160  # samples the input position may move to match the previous frame
MIN_SPEED, MAX_SPEED = 0.5, 2.0

_WINDOW = np.hanning(FRAME + 1)[:FRAME].astype(np.float32)  # periodic Hann: overlaps sum to 1


class Stretcher:
    """``push(x)`` returns the stretched samples available so far; ``flush()`` the rest.

    The output has about ``len(input) / speed`` samples."""

    def __init__(self, speed: float) -> None:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"playback speed must be {MIN_SPEED}-{MAX_SPEED}x, not {speed}")
        self.speed = float(speed)
        self._in = np.zeros(0, np.float32)  # input not yet fully used
        self._in_start = 0  # input index of _in[0]
        self._out_frames = 0  # frames written
        self._acc = np.zeros(FRAME, np.float32)  # overlap-add accumulator (next output hop + tail)
        self._prev = -1  # input index where the previous frame began (-1: none)

    def _nominal(self, k: int) -> int:
        return int(round(k * HOP * self.speed))

    def push(self, x: np.ndarray) -> np.ndarray:
        if self.speed == 1.0:
            return np.asarray(x, np.float32)
        self._in = np.concatenate([self._in, np.asarray(x, np.float32)])
        return self._run(final=False)

    def flush(self) -> np.ndarray:
        if self.speed == 1.0:
            return np.zeros(0, np.float32)
        out = self._run(final=True)
        tail, self._acc = self._acc[:HOP].copy(), np.zeros(FRAME, np.float32)
        return np.concatenate([out, tail])

    def _frame_at(self, pos: int) -> np.ndarray:
        a = pos - self._in_start
        seg = self._in[max(0, a) : a + FRAME]
        if len(seg) < FRAME:
            seg = np.concatenate([seg, np.zeros(FRAME - len(seg), np.float32)])
        return seg

    def _run(self, final: bool) -> np.ndarray:
        chunks = []
        end = self._in_start + len(self._in)
        while True:
            nominal = self._nominal(self._out_frames)
            if nominal + FRAME + TOLERANCE > end and not (final and nominal < end):
                break
            pos = nominal
            if self._prev >= 0:
                target = self._frame_at(self._prev + HOP)  # what would follow the previous frame
                lo = max(self._in_start, nominal - TOLERANCE)
                hi = min(nominal + TOLERANCE, end - FRAME)
                if hi > lo:
                    region = self._in[lo - self._in_start : hi - self._in_start + FRAME]
                    corr = np.correlate(region, target[: FRAME // 2], mode="valid")[: hi - lo + 1]
                    pos = lo + int(np.argmax(corr))
            frame = self._frame_at(pos) * _WINDOW
            self._acc += frame
            chunks.append(self._acc[:HOP].copy())
            self._acc = np.concatenate([self._acc[HOP:], np.zeros(HOP, np.float32)])
            self._prev = pos
            self._out_frames += 1
            keep_from = min(self._nominal(self._out_frames) - TOLERANCE, self._prev + HOP) - self._in_start
            if keep_from > 0:  # drop input no frame can use any more
                self._in = self._in[keep_from:]
                self._in_start += keep_from
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def stretch(x: np.ndarray, speed: float) -> np.ndarray:
    """The whole of ``x`` at ``speed`` (pitch kept)."""
    s = Stretcher(speed)
    return np.concatenate([s.push(x), s.flush()])
