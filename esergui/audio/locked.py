"""Audio shared between threads: :class:`LockedSource` serialises reads of one source so the
GUI, the spectrogram worker and the playback callback can share it; :class:`ArraySource` is an
in-memory source for tests, benchmarks and short recordings. Qt-free.
"""

from __future__ import annotations

import threading
from typing import Protocol

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
