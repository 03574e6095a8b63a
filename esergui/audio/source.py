"""A lesson's audio as random access by sample range, and the decode cache that backs it.

:func:`decode_to_cache` streams any input into a 16 kHz mono PCM-16 WAV (about 115 MB per
hour) once; afterwards the GUI reads the visible range and the pipeline reads utterances from
it with :meth:`AudioSource.read`, never holding the lesson in memory.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import soundfile as sf

from esergui.audio.decode import (
    SAMPLE_RATE,
    _blocks,
    cache_matches_source,
    expected_samples,
    temporary_sibling,
    write_cache_record,
    write_problem,
)
from esergui.audio.info import check_file, probe_checked
from esergui.errors import AudioError
from esergui.progress import CancelToken, ProgressCallback, report


@runtime_checkable
class AudioSource(Protocol):
    """Mono audio with random access. ``read(start, stop)`` returns float32 samples
    ``[start, stop)`` clipped to ``[0, n_samples)`` (so possibly fewer than asked)."""

    sample_rate: int
    n_samples: int

    @property
    def duration_s(self) -> float: ...

    def read(self, start: int, stop: int) -> np.ndarray: ...


def _span(start: int, stop: int, n: int) -> tuple[int, int]:
    a = min(max(0, int(start)), n)
    return a, min(max(a, int(stop)), n)


class ArrayAudio:
    """An in-memory ``(samples,)`` waveform seen as an :class:`AudioSource` (no copy if float32)."""

    def __init__(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
        arr = np.asarray(samples)
        if arr.ndim == 2 and 1 in arr.shape:
            arr = arr.reshape(-1)
        if arr.ndim != 1:
            raise ValueError(f"expected a mono (samples,) array, got shape {arr.shape}")
        self.samples = arr.astype(np.float32, copy=False)
        self.sample_rate = int(sample_rate)
        self.n_samples = int(arr.size)

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    def read(self, start: int, stop: int) -> np.ndarray:
        a, b = _span(start, stop, self.n_samples)
        return self.samples[a:b]

    def __repr__(self) -> str:
        return f"ArrayAudio({self.duration_s:.1f} s at {self.sample_rate} Hz)"


class WavAudio:
    """Random access to a seekable PCM file (the decode cache) as an :class:`AudioSource`.

    Multi-channel files are averaged to mono; the rate is the file's own. Reads are
    thread-safe (one lock around seek + read), so the GUI and a worker may share one object.
    Use :meth:`close` or ``with`` to release the file handle early.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        check_file(self.path)
        try:
            self._fh: sf.SoundFile | None = sf.SoundFile(str(self.path))
        except sf.LibsndfileError as exc:
            raise AudioError(f"{self.path} is not a readable PCM file ({exc.error_string})") from None
        if not self._fh.seekable():
            self._fh.close()
            raise AudioError(f"{self.path} cannot be read at random positions (not seekable)")
        self.sample_rate = int(self._fh.samplerate)
        self.n_samples = int(self._fh.frames)
        self.channels = int(self._fh.channels)
        self._lock = threading.Lock()

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    def read(self, start: int, stop: int) -> np.ndarray:
        a, b = _span(start, stop, self.n_samples)
        with self._lock:
            if self._fh is None:
                self._fh = sf.SoundFile(str(self.path))
            self._fh.seek(a)
            data = self._fh.read(b - a, dtype="float32", always_2d=True)
        return data[:, 0].copy() if data.shape[1] == 1 else data @ np.full(data.shape[1], 1 / data.shape[1], np.float32)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> WavAudio:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            if self._fh is not None:
                self._fh.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"WavAudio({str(self.path)!r}, {self.duration_s:.1f} s at {self.sample_rate} Hz)"


def as_source(audio: Any, sr: int = SAMPLE_RATE) -> AudioSource:
    """``audio`` if it already is an :class:`AudioSource`, else an :class:`ArrayAudio` around it."""
    if all(hasattr(audio, a) for a in ("read", "sample_rate", "n_samples")):
        return audio
    return ArrayAudio(np.asarray(audio), sr)


def decode_to_cache(
    path: str | os.PathLike[str],
    cache_path: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> WavAudio:
    """Decode ``path`` (any supported format) to a 16 kHz mono PCM-16 WAV at ``cache_path`` and
    return a :class:`WavAudio` over it.

    Streams block by block (bounded memory). The WAV is written under a temporary name of its
    own (:func:`~esergui.audio.decode.temporary_sibling`; two processes decoding the same
    lesson never share it) and renamed when complete, with a record of the source it came from
    (``<cache_path>.source.json``). An existing cache is reused only when
    :func:`~esergui.audio.decode.cache_matches_source` confirms it (source content, length,
    cache bytes, and its first seconds against a fresh decode); a cut, replaced or foreign
    cache is decoded again. Samples beyond +-1 are clipped. Raises :class:`AudioError` for bad
    input or a cache that cannot be written (naming why: disk full, read-only, ...),
    ``Cancelled`` when cancelled.
    """
    src, head = check_file(path)
    cache = Path(cache_path)
    if cache.is_file() and cache_matches_source(cache, src, head):
        report(progress, 1.0, "decoded (cached)")
        return WavAudio(cache)
    info = probe_checked(src, head)
    expected = max(1, expected_samples(info, SAMPLE_RATE))
    part = temporary_sibling(cache)
    done = 0
    report(progress, 0.0, f"decoding {info.format} {info.sample_rate} Hz")
    try:
        with sf.SoundFile(str(part), "w", samplerate=SAMPLE_RATE, channels=1, subtype="PCM_16", format="WAV") as out:
            for block in _blocks(info, head, SAMPLE_RATE, 10.0, cancel):
                np.clip(block, -1.0, 1.0, out=block)
                out.write(block)
                done += block.size
                report(progress, min(0.999, done / expected), f"decoding {done / SAMPLE_RATE / 60:.0f} min")
        write_cache_record(part, cache, src, done)
        os.replace(part, cache)
    except (OSError, sf.LibsndfileError) as exc:
        part.unlink(missing_ok=True)
        raise AudioError(f"Cannot write the decode cache {cache}: {write_problem(exc, cache.parent)}") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    report(progress, 1.0, "decoded")
    return WavAudio(cache)
