"""Audio shared between threads: :class:`LockedSource` serialises reads of one
:class:`~esergui.audio.source.AudioSource` so the GUI, the spectrogram worker and the playback
callback can share it (in memory: wrap an :class:`~esergui.audio.source.ArrayAudio`). Qt-free.
"""

from __future__ import annotations

import threading

import numpy as np

from esergui.audio.source import AudioSource


class LockedSource:
    """An :class:`AudioSource` that any thread may read: ``read(start, stop)`` clips to
    ``[0, n_samples)`` and returns ``(stop - start,)`` float32 (zero-padded outside the
    recording); ``gather`` reads many equal windows at once."""

    def __init__(self, source: AudioSource) -> None:
        self.source = source
        self.n_samples = int(source.n_samples)
        self.sample_rate = int(source.sample_rate)
        self._lock = threading.Lock()

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    def read(self, start: int, stop: int) -> np.ndarray:
        start, stop = int(start), int(stop)
        out = np.zeros(max(0, stop - start), dtype=np.float32)
        a, b = max(0, start), min(self.n_samples, stop)
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
        return (
            np.stack([self.read(int(a), int(a) + width) for a in starts])
            if len(starts)
            else np.zeros((0, width), np.float32)
        )
