"""The decode cache read as memory: :class:`MappedPcm16` maps a mono 16-bit PCM WAV's samples
(a small RIFF chunk walk finds them), and :func:`open_cached_source` gives the views and
playback a thread-safe source over a lesson's cache. Qt-free.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from esergui.audio.decode import SAMPLE_RATE
from esergui.audio.locked import LockedSource
from esergui.audio.source import WavAudio
from esergui.errors import AudioError


def open_cached_source(cache_wav: Path) -> LockedSource | None:
    """A source over an existing 16 kHz mono decode cache, or None when the lesson is not
    decoded yet. The PCM-16 samples are memory-mapped (:class:`MappedPcm16`), so random reads
    for the waveform, the spectrogram tiles and playback cost no file I/O calls; a cache in
    another layout falls back to :class:`esergui.audio.WavAudio`."""
    if not Path(cache_wav).is_file():
        return None
    try:
        wav = WavAudio(cache_wav)
    except AudioError:
        return None
    if wav.sample_rate != SAMPLE_RATE or wav.n_samples <= 0:
        wav.close()
        return None
    mapped = MappedPcm16.open(Path(cache_wav), wav.n_samples)
    if mapped is not None:
        wav.close()
        return LockedSource(mapped)
    return LockedSource(wav)


class MappedPcm16:
    """Read-only memory map of a mono PCM-16 WAV's samples, an :class:`~esergui.audio.source.AudioSource`:
    ``read(start, stop)`` -> float32 in [-1, 1); ``gather(starts, width)`` -> ``(len(starts), width)``
    windows (zero outside)."""

    def __init__(self, path: Path, offset: int, n_samples: int, sample_rate: int = SAMPLE_RATE) -> None:
        self.path = path
        self.n_samples = int(n_samples)
        self.sample_rate = int(sample_rate)
        self._mm = np.memmap(path, dtype="<i2", mode="r", offset=offset, shape=(self.n_samples,))

    @classmethod
    def open(cls, path: Path, n_samples: int) -> MappedPcm16 | None:
        """None when the file is not a plain mono 16-bit PCM WAV (then read it another way);
        at most ``n_samples`` samples, fewer when the file is cut short."""
        try:
            with open(path, "rb") as fh:
                head = fh.read(12)
                if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                    return None
                pcm16_mono, rate = False, 0
                while True:
                    chunk = fh.read(8)
                    if len(chunk) < 8:
                        return None
                    cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                    if cid == b"fmt ":
                        fmt = fh.read(size + (size & 1))
                        tag, channels, rate, _bps, _align, bits = struct.unpack("<HHIIHH", fmt[:16])
                        pcm16_mono = tag in (1, 0xFFFE) and channels == 1 and bits == 16 and rate > 0
                    elif cid == b"data":
                        if not pcm16_mono:
                            return None
                        offset = fh.tell()
                        available = (path.stat().st_size - offset) // 2
                        count = min(int(n_samples), available)
                        return cls(path, offset, count, rate) if count > 0 else None
                    else:
                        fh.seek(size + (size & 1), 1)
        except (OSError, struct.error):
            return None

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    def read(self, start: int, stop: int) -> np.ndarray:
        a, b = max(0, int(start)), min(self.n_samples, int(stop))
        return self._mm[a : max(a, b)].astype(np.float32) * np.float32(1 / 32768)

    def gather(self, starts: np.ndarray, width: int) -> np.ndarray:
        idx = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(width)
        valid = (idx >= 0) & (idx < self.n_samples)
        out = self._mm[np.clip(idx, 0, max(0, self.n_samples - 1))].astype(np.float32) * np.float32(1 / 32768)
        out[~valid] = 0.0
        return out
