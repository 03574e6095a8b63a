"""A fixed-size, single-producer ring of audio frames that readers follow with their own cursor.

The PortAudio callback is the only producer: :meth:`FrameRing.write` is two numpy slice copies
and one integer store, no allocation and no lock, so the callback never waits on the writer
thread or the GUI. Readers (the file writer thread, the GUI meter) keep their own absolute frame
position and call :meth:`FrameRing.read`; a reader that falls more than ``capacity`` frames
behind loses the oldest frames and is told how many (``dropped``).

Positions are absolute frame counts since the ring was created (Python ints never wrap), so
``written`` is also "frames captured so far". Under CPython the integer store that publishes
new frames is atomic, and the data is stored before the counter moves, so a reader never sees a
position whose frames are not there yet.

:class:`PauseLog` keeps the paused stretches of a recording in the same absolute positions,
so the writer leaves them out of the file while the meters go on reading.
"""

from __future__ import annotations

import numpy as np


class FrameRing:
    """``capacity`` frames of ``channels`` interleaved samples of ``dtype`` (default int16)."""

    def __init__(self, capacity: int, channels: int, dtype: str | np.dtype = "int16") -> None:
        if capacity <= 0 or channels <= 0:
            raise ValueError("capacity and channels must be positive")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._buf = np.zeros((self.capacity, self.channels), dtype=dtype)
        self._written = 0

    @property
    def dtype(self) -> np.dtype:
        return self._buf.dtype

    @property
    def written(self) -> int:
        """Frames written since creation (the absolute position of the next frame)."""
        return self._written

    @property
    def nbytes(self) -> int:
        return int(self._buf.nbytes)

    def write(self, frames: np.ndarray) -> None:
        """Append ``frames`` (shape ``(n, channels)``); called from the audio callback."""
        total = len(frames)
        if total > self.capacity:  # only the newest capacity frames can be kept
            frames = frames[total - self.capacity :]
        n = len(frames)
        start = (self._written + total - n) % self.capacity
        end = start + n
        if end <= self.capacity:
            self._buf[start:end] = frames
        else:
            first = self.capacity - start
            self._buf[start:] = frames[:first]
            self._buf[: n - first] = frames[first:]
        self._written += total

    def read(self, position: int, max_frames: int | None = None) -> tuple[np.ndarray, int, int]:
        """Frames from absolute ``position`` up to the newest (at most ``max_frames``).

        Returns ``(frames, new_position, dropped)``: a copy of shape ``(k, channels)``, the
        position after them, and how many frames were lost because ``position`` had fallen more
        than ``capacity`` behind (the copy then starts at the oldest frame still held).
        """
        end = self._written
        dropped = 0
        if end - position > self.capacity:
            dropped = end - self.capacity - position
            position = end - self.capacity
        if max_frames is not None:
            end = min(end, position + max(0, int(max_frames)))
        out = self._copy(position, end)
        # Frames overwritten while we copied (a reader far behind a fast producer): drop them.
        overrun = self._written - self.capacity - position
        if overrun > 0:
            overrun = min(overrun, len(out))
            out = out[overrun:]
            dropped += overrun
        return out, end, dropped

    def latest(self, frames: int) -> np.ndarray:
        """A copy of the newest ``frames`` frames (fewer at the start); for display only."""
        end = self._written
        start = max(0, end - min(int(frames), self.capacity))
        return self._copy(start, end)

    def _copy(self, start: int, end: int) -> np.ndarray:
        n = max(0, end - start)
        s = start % self.capacity
        if s + n <= self.capacity:
            return self._buf[s : s + n].copy()
        first = self.capacity - s
        return np.concatenate([self._buf[s:], self._buf[: n - first]])


class PauseLog:
    """Paused stretches ``[start, end)`` in absolute ring frames (``end`` None while paused)."""

    def __init__(self) -> None:
        self._spans: list[list[int | None]] = []

    @property
    def paused(self) -> bool:
        return bool(self._spans) and self._spans[-1][1] is None

    def pause(self, at: int) -> None:
        if not self.paused:
            self._spans.append([at, None])

    def resume(self, at: int) -> None:
        if self.paused:
            start = self._spans[-1][0]
            assert start is not None
            self._spans[-1][1] = max(at, start)

    def kept(self, a: int, b: int) -> list[tuple[int, int]]:
        """The parts of ``[a, b)`` that are not paused."""
        parts, cursor = [], a
        for start, end in self._spans:
            assert start is not None
            end = b if end is None else end
            if end <= cursor or start >= b:
                continue
            if start > cursor:
                parts.append((cursor, start))
            cursor = max(cursor, end)
        if cursor < b:
            parts.append((cursor, b))
        return parts

    def kept_count(self, upto: int) -> int:
        return sum(e - s for s, e in self.kept(0, upto))
