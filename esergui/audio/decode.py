"""Streaming decode: any file -> mono float32 blocks at the target rate, in bounded memory.

The file is read about one second at a time, averaged to mono, resampled with soxr ("HQ":
band-limited, anti-aliased) as a stream, and cut into blocks of exactly ``block_s`` seconds
(the last one shorter). Memory stays at a few blocks whatever the file's length.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from esergui.audio.info import AudioInfo, check_file, head_tail_digest, open_pyav, probe_checked, truncated
from esergui.errors import AudioError, os_problem
from esergui.progress import CancelToken, ProgressCallback, check, report

#: The one sample rate of the analysis (Hz): everything is decoded to mono float32 at this rate.
SAMPLE_RATE = 16000
_READ_S = 1.0  # seconds of input decoded per step (cancel is checked at least this often)


def _soundfile_chunks(info: AudioInfo, cancel: CancelToken | None) -> Iterator[tuple[int, np.ndarray]]:
    """``(rate, mono float32)`` chunks of a libsndfile-readable file."""
    step = max(1024, int(info.sample_rate * _READ_S))
    got = 0
    weights = np.full(info.channels, 1.0 / info.channels, np.float32)  # (frames, ch) @ w: a fast average
    try:
        with sf.SoundFile(str(info.path)) as fh:
            while True:
                check(cancel)
                raw = fh.read(step, dtype="float32", always_2d=True)
                if raw.shape[0] == 0:
                    break
                got += raw.shape[0]
                yield info.sample_rate, raw[:, 0].copy() if raw.shape[1] == 1 else raw @ weights
    except sf.LibsndfileError as exc:
        raise AudioError(
            f"{info.path} is corrupt or truncated: decoding failed after {got / info.sample_rate:.1f} s ({exc.error_string})"
        ) from None
    if got < info.frames:
        raise truncated(info.path, info.duration_s, got / info.sample_rate)


_INT_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9223372036854775808.0}


def _frame_mono(frame) -> np.ndarray:
    """A PyAV audio frame averaged to mono float32 (no swresample: planar and packed, int and float)."""
    fmt = frame.format
    arr = frame.to_ndarray()
    channels = len(frame.layout.channels) or 1
    if not fmt.is_planar:
        arr = arr.reshape(-1, channels).T
    arr = arr[:, : frame.samples]
    base = fmt.name.rstrip("p")
    if base in _INT_SCALE:
        data = arr.astype(np.float32)
        if base == "u8":
            data -= 128.0
        data /= _INT_SCALE[base]
    else:
        data = arr.astype(np.float32, copy=False)
    return data[0].copy() if data.shape[0] == 1 else data.mean(axis=0, dtype=np.float32)


def _pyav_chunks(info: AudioInfo, head: bytes, cancel: CancelToken | None) -> Iterator[tuple[int, np.ndarray]]:
    """``(rate, mono float32)`` chunks decoded by FFmpeg, gathered to about ``_READ_S`` seconds."""
    import av

    container, stream = open_pyav(info.path, head)
    got = 0
    pending: list[np.ndarray] = []
    pending_n = 0
    rate = info.sample_rate
    try:
        stream.thread_type = "AUTO"
        check(cancel)
        try:
            for frame in container.decode(stream):
                fr_rate = int(frame.sample_rate or rate)
                if fr_rate != rate and pending:
                    yield rate, np.concatenate(pending)
                    pending, pending_n = [], 0
                rate = fr_rate
                mono = _frame_mono(frame)
                pending.append(mono)
                pending_n += mono.size
                got += mono.size
                if pending_n >= rate * _READ_S:
                    check(cancel)
                    yield rate, np.concatenate(pending)
                    pending, pending_n = [], 0
        except av.error.FFmpegError as exc:
            raise AudioError(
                f"{info.path} is corrupt or truncated: decoding failed after {got / rate:.1f} s "
                f"({getattr(exc, 'strerror', None) or exc})"
            ) from None
        if pending:
            yield rate, np.concatenate(pending)
    finally:
        container.close()
    if got == 0:
        raise AudioError(f"{info.path} contains no audio (0 samples decoded)")
    if info.exact and info.frames and got < 0.99 * info.frames - 0.05 * info.sample_rate:
        raise truncated(info.path, info.duration_s, got / info.sample_rate)


def _native_chunks(info: AudioInfo, head: bytes, cancel: CancelToken | None) -> Iterator[tuple[int, np.ndarray]]:
    if info.backend == "soundfile":
        return _soundfile_chunks(info, cancel)
    return _pyav_chunks(info, head, cancel)


def _resampled(chunks: Iterator[tuple[int, np.ndarray]], sr: int) -> Iterator[np.ndarray]:
    """Resample ``(rate, mono)`` chunks to ``sr`` with one soxr stream per input rate."""
    stream: soxr.ResampleStream | None = None
    stream_rate = None
    for rate, x in chunks:
        if rate != stream_rate:
            if stream is not None:
                tail = stream.resample_chunk(np.zeros(0, np.float32), last=True)
                if tail.size:
                    yield tail
            stream = soxr.ResampleStream(rate, sr, 1, dtype="float32", quality="HQ") if rate != sr else None
            stream_rate = rate
        if stream is None:
            yield x
        else:
            y = stream.resample_chunk(x)
            if y.size:
                yield y
    if stream is not None:
        tail = stream.resample_chunk(np.zeros(0, np.float32), last=True)
        if tail.size:
            yield tail


def _rechunk(chunks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Cut a stream of arrays into arrays of exactly ``size`` samples (the last one may be shorter)."""
    buf = np.empty(size, np.float32)
    fill = 0
    for x in chunks:
        pos = 0
        while pos < x.size:
            take = min(size - fill, x.size - pos)
            buf[fill : fill + take] = x[pos : pos + take]
            fill += take
            pos += take
            if fill == size:
                yield buf
                buf = np.empty(size, np.float32)
                fill = 0
    if fill:
        yield buf[:fill]


def _blocks(info: AudioInfo, head: bytes, sr: int, block_s: float, cancel: CancelToken | None) -> Iterator[np.ndarray]:
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    size = max(1, int(round(block_s * sr)))
    return _rechunk(_resampled(_native_chunks(info, head, cancel), sr), size)


def iter_blocks(
    path: str | os.PathLike[str],
    sr: int = SAMPLE_RATE,
    block_s: float = 10.0,
    cancel: CancelToken | None = None,
) -> Iterator[np.ndarray]:
    """Mono float32 blocks of ``round(block_s * sr)`` samples (the last one shorter) at ``sr`` Hz.

    Streams: at most about ``block_s`` seconds of output plus one second of input are held at a
    time, for a file of any length. Values are not clipped (float files may exceed +-1). The file
    is checked before the first block (missing, empty, corrupt, unsupported: :class:`AudioError`);
    a body that turns out truncated or corrupt raises :class:`AudioError` when it is reached.
    """
    p, head = check_file(path)
    info = probe_checked(p, head)
    return _blocks(info, head, sr, block_s, cancel)


def expected_samples(info: AudioInfo, sr: int) -> int:
    """Samples at ``sr`` that ``info``'s audio should decode to (an estimate where not ``exact``)."""
    return int(math.ceil(info.frames * sr / info.sample_rate))


def load_audio(
    path: str | os.PathLike[str],
    sr: int = SAMPLE_RATE,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """The whole file as one ``(samples,)`` float32 mono array at ``sr`` Hz.

    For clips and tests; a long lesson belongs in :func:`decode_to_cache` (one hour at 16 kHz is
    230 MB as float32). Errors as :func:`iter_blocks`; ``progress(fraction, message)``.
    """
    p, head = check_file(path)
    info = probe_checked(p, head)
    expected = max(1, expected_samples(info, sr))
    out = np.empty(expected + sr, np.float32)  # + 1 s: estimates and resampler rounding
    n = 0
    report(progress, 0.0, "decoding")
    for block in _blocks(info, head, sr, 10.0, cancel):
        if n + block.size > out.size:
            out = np.concatenate([out[:n], np.empty(max(block.size, out.size // 2), np.float32)])
        out[n : n + block.size] = block
        n += block.size
        report(progress, n / expected, "decoding")
    report(progress, 1.0, "decoded")
    return out[:n].copy() if n < out.size // 2 else out[:n]


# ----------------------------------------------------------------------------- decode cache

#: Next to a decode cache ``X_16k.wav``: ``X_16k.wav.source.json`` says which source it was
#: decoded from and what it held when it was written.
CACHE_RECORD_SUFFIX = ".source.json"
_CHECK_S = 2.0  # seconds at the start that are decoded again and compared with the cache


def cache_record_path(cache: Path) -> Path:
    return cache.with_name(cache.name + CACHE_RECORD_SUFFIX)


def temporary_sibling(path: Path, suffix: str = ".part") -> Path:
    """A new, empty file next to ``path`` with a name no other process or thread uses
    (``.<name>.<random><suffix>``), so parallel writers never share a half-written file.
    Raises :class:`AudioError` naming the reason (disk full, read-only, a file where the
    folder should be, ...)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except FileExistsError:
        raise AudioError(f"Cannot write {path}: {path.parent} is a file, not a folder") from None
    except OSError as exc:
        raise AudioError(f"Cannot write {path}: {os_problem(exc)}") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
    return Path(name)


def write_problem(exc: BaseException, folder: Path) -> str:
    """Why writing into ``folder`` failed; libsndfile only says "System error", so a disk with
    (almost) no free space left is named as full."""
    problem = os_problem(exc)
    if getattr(exc, "errno", None) is None:
        try:
            if shutil.disk_usage(folder).free < (1 << 20):
                return "the disk is full"
        except OSError:
            pass
    return problem


def write_cache_record(cache_part: Path, cache: Path, source: Path, frames: int) -> None:
    """Record what the finished (not yet renamed) cache ``cache_part`` holds and which source
    it came from, for :func:`cache_matches_source`."""
    record = {
        "version": 1,
        "source": head_tail_digest(source),
        "frames": int(frames),
        "cache": head_tail_digest(cache_part),
        "rate": SAMPLE_RATE,
    }
    target = cache_record_path(cache)
    tmp = temporary_sibling(target, ".tmp")
    try:
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def cache_matches_source(cache: Path, source: Path, head: bytes) -> bool:
    """Whether ``cache`` is a complete, unchanged decode of ``source``: its record names this
    source's content, its length matches the record (and the source's own length where the
    container states it exactly), its bytes are those written, and its first seconds equal a
    fresh decode of the source's first seconds. Anything unreadable counts as no match."""
    try:
        record = json.loads(cache_record_path(cache).read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("source") != head_tail_digest(source):
            return False
        info = sf.info(str(cache))
        frames = int(info.frames)
        if (info.format, info.subtype, info.samplerate, info.channels) != ("WAV", "PCM_16", SAMPLE_RATE, 1):
            return False
        if frames <= 0 or frames != record.get("frames") or record.get("cache") != head_tail_digest(cache):
            return False
        src_info = probe_checked(source, head)
        expected = expected_samples(src_info, SAMPLE_RATE)
        if src_info.exact and abs(frames - expected) > 0.005 * expected + SAMPLE_RATE // 10:
            return False
        fresh = next(_blocks(src_info, head, SAMPLE_RATE, _CHECK_S, None))
        with sf.SoundFile(str(cache)) as fh:
            stored = fh.read(fresh.size, dtype="float32")
        if stored.size != fresh.size:
            return False
        return bool(np.max(np.abs(np.clip(fresh, -1.0, 1.0) - stored)) <= 2.0 / 32768)
    except (OSError, ValueError, TypeError, RuntimeError, StopIteration, AudioError, sf.LibsndfileError):
        return False
