"""Incremental, crash-tolerant audio file writers (16-bit PCM WAV, 16-bit FLAC) and header repair.

WAV is written by hand: a 44-byte header, then raw frames appended; :meth:`WavWriter.flush`
rewrites the two size fields and ``fsync``s, so after a crash the header is at most one flush
interval stale and :func:`repair_wav` fixes it from the file size. FLAC goes through libsndfile
(``soundfile``); a killed FLAC file lacks its final STREAMINFO (length unknown) and possibly a
partial last frame, and :func:`repair_flac` re-encodes the frames that decode.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Protocol

import numpy as np

from esergui.errors import AudioError, DeviceError, os_problem

#: Largest WAV data chunk (the RIFF size field is 32-bit).
WAV_MAX_DATA_BYTES = 0xFFFFFFFF - 36
FORMATS = {".wav": "WAV", ".flac": "FLAC"}


def file_format(path: str | Path) -> str:
    """``"WAV"`` or ``"FLAC"`` from the file suffix; :class:`AudioError` for anything else."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise AudioError(f"Recordings are saved as .wav or .flac, not '{Path(path).suffix or Path(path).name}'.")
    return fmt


class AudioWriter(Protocol):
    path: Path
    frames: int

    def write(self, frames: np.ndarray) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


def _wav_header(samplerate: int, channels: int, data_bytes: int) -> bytes:
    block = 2 * channels
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, samplerate, samplerate * block, block, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class WavWriter:
    """Appends int16 frames ``(n, channels)`` to a PCM WAV file."""

    def __init__(self, path: str | Path, samplerate: int, channels: int, exclusive: bool = False) -> None:
        self.path = Path(path)
        self.samplerate, self.channels = int(samplerate), int(channels)
        self.frames = 0
        self._fh = open(self.path, "xb" if exclusive else "wb")
        self._fh.write(_wav_header(self.samplerate, self.channels, 0))

    def write(self, frames: np.ndarray) -> None:
        data = np.ascontiguousarray(frames, dtype="<i2").tobytes()
        if (self.frames * 2 * self.channels) + len(data) > WAV_MAX_DATA_BYTES:
            raise DeviceError("A WAV file cannot hold more than 4 GiB; record long lessons as FLAC.")
        self._fh.write(data)
        self.frames += len(frames)

    def flush(self) -> None:
        """Write the current sizes into the header and push everything to the disk."""
        end = self._fh.tell()
        self._fh.seek(0)
        self._fh.write(_wav_header(self.samplerate, self.channels, self.frames * 2 * self.channels))
        self._fh.seek(end)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            try:
                self.flush()
            finally:
                self._fh.close()


class FlacWriter:
    """Appends int16 frames ``(n, channels)`` to a 16-bit FLAC file (libsndfile)."""

    def __init__(self, path: str | Path, samplerate: int, channels: int, exclusive: bool = False) -> None:
        import soundfile as sf

        self.path = Path(path)
        self.frames = 0
        if exclusive:  # claim the name first: libsndfile itself would truncate an existing file
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        self._sf = sf.SoundFile(
            self.path, "w", samplerate=int(samplerate), channels=int(channels), format="FLAC", subtype="PCM_16"
        )

    def write(self, frames: np.ndarray) -> None:
        self._sf.write(np.ascontiguousarray(frames, dtype=np.int16))
        self.frames += len(frames)

    def flush(self) -> None:
        self._sf.flush()  # libsndfile: fsync; the encoder keeps at most one block (4096 frames)

    def close(self) -> None:
        if not self._sf.closed:
            self._sf.close()


def open_writer(path: str | Path, samplerate: int, channels: int, exclusive: bool = False) -> AudioWriter:
    """A writer for ``path`` (format from its suffix); :class:`DeviceError` if it cannot be created.
    ``exclusive``: fail with :class:`AudioError` when the file exists (even when another
    process creates it at the same moment) instead of replacing it."""
    fmt = file_format(path)
    try:
        if fmt == "WAV":
            return WavWriter(path, samplerate, channels, exclusive)
        return FlacWriter(path, samplerate, channels, exclusive)
    except FileExistsError:
        raise AudioError(f"{path} already exists; choose another name or pass --overwrite.") from None
    except OSError as exc:
        raise DeviceError(f"The recording file {path} cannot be created: {os_problem(exc)}.") from exc
    except RuntimeError as exc:  # libsndfile
        raise DeviceError(f"The recording file {path} cannot be created: {exc}.") from exc


# --------------------------------------------------------------------------------------- repair


def repair_wav(path: str | Path) -> int:
    """Fix the RIFF and data sizes of a WAV whose writer died; returns its frames.

    Walks the chunks up to ``data``; the data runs to the end of the file, cut down to whole
    frames. The file is changed in place (a few header bytes, and a truncated partial frame).
    """
    path = Path(path)
    try:
        return _repair_wav(path)
    except OSError as exc:
        raise AudioError(f"{path.name} could not be repaired: {os_problem(exc)}.") from None


def _repair_wav(path: Path) -> int:
    if path.stat().st_size == 0:
        return 0  # killed before its header was written
    with open(path, "r+b") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            raise AudioError(f"{path.name} is not a WAV file, so it cannot be repaired.")
        size = os.fstat(fh.fileno()).st_size
        block_align = None
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            cid, clen = struct.unpack("<4sI", fh.read(8))
            if cid == b"fmt ":
                fmt = fh.read(16)
                block_align = struct.unpack("<HHIIHH", fmt)[4]
            if cid == b"data":
                if not block_align:
                    raise AudioError(f"{path.name} has no format chunk before its audio, so it cannot be repaired.")
                data_start = pos + 8
                frames = (size - data_start) // block_align
                data_bytes = frames * block_align
                fh.truncate(data_start + data_bytes)
                fh.seek(pos + 4)
                fh.write(struct.pack("<I", data_bytes))
                fh.seek(4)
                fh.write(struct.pack("<I", data_start + data_bytes - 8))
                fh.flush()
                os.fsync(fh.fileno())
                return frames
            pos += 8 + clen + (clen & 1)
    raise AudioError(f"{path.name} has no audio data, so it cannot be repaired.")


def repair_flac(path: str | Path, block_frames: int = 65536) -> int:
    """Re-encode the decodable frames of an unfinished FLAC file in place; returns its frames.

    Decodes with PyAV (libsndfile refuses FLAC files whose length is unknown), writes a new
    FLAC next to it and replaces the original only when that succeeded. Memory stays at one
    block of ``block_frames`` frames.
    """
    import av
    import soundfile as sf

    path = Path(path)
    if path.stat().st_size == 0:
        return 0  # killed before libsndfile wrote anything
    tmp = path.with_name(path.name + ".repairing.flac")
    frames = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate
            channels = stream.codec_context.layout.nb_channels
            if not rate or not channels:
                raise AudioError(f"{path.name} could not be repaired: its FLAC header names no rate or channels.")
            with sf.SoundFile(tmp, "w", samplerate=rate, channels=channels, format="FLAC", subtype="PCM_16") as out:
                try:
                    for frame in container.decode(stream):
                        pcm = frame.to_ndarray()  # s16 planar (channels, n) or packed (1, n*ch)
                        pcm = pcm.T if frame.format.is_planar else pcm.reshape(-1, channels)
                        if pcm.dtype == np.int32:  # a 24-bit file decodes to s32
                            pcm = np.right_shift(pcm, 16)
                        out.write(np.ascontiguousarray(pcm, dtype=np.int16))
                        frames += len(pcm)
                except (av.error.InvalidDataError, av.error.EOFError):
                    pass  # the torn last frame of a killed writer
        if frames == 0:
            tmp.unlink(missing_ok=True)  # no audio: the caller decides what becomes of the file
            return 0
        os.replace(tmp, path)
    except (av.error.FFmpegError, IndexError, EOFError, ValueError, sf.LibsndfileError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        why = (
            os_problem(exc)
            if isinstance(exc, OSError) and not isinstance(exc, av.error.FFmpegError)
            else (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        )
        raise AudioError(f"{path.name} could not be repaired (no readable FLAC audio: {why}).") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return frames


def repair_audio_file(path: str | Path) -> int:
    """Repair a WAV or FLAC recording whose writer died; returns the frames it now holds."""
    return repair_wav(path) if file_format(path) == "WAV" else repair_flac(path)
