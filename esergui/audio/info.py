"""What an audio file holds (:func:`probe`) and the checks that turn bad input into one clear
:class:`~esergui.errors.AudioError` sentence: missing, a folder, no permission, empty,
truncated, corrupt, unsupported, no audio track.

Two back ends read files: soundfile (libsndfile: WAV/RF64/W64, FLAC, OGG Vorbis/Opus, AIFF, CAF,
...; fast, exact frame counts) and PyAV (FFmpeg: mp3, m4a/aac, and anything else with an audio
track). MP3 goes to PyAV, which honours the encoder delay/padding (gapless) header.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from esergui.errors import AudioError, os_problem

#: What the user is told the app reads.
SUPPORTED = "wav, flac, ogg, mp3, m4a/aac"

#: Extensions of audio (or audio-carrying) files: a file with one of these that no back end can
#: open is reported as corrupt; any other unreadable file as an unsupported format.
AUDIO_EXTENSIONS = frozenset(
    "wav wave bwf rf64 w64 flac ogg oga opus spx mp3 mp2 m4a m4b mp4 aac adts aif aiff aifc caf "
    "au snd wma webm mka mkv mov 3gp amr ac3 wv ape".split()
)

# File signatures -> the format name used in messages ("... is not a valid WAV file").
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "WAV"),
    (0, b"RF64", "WAV"),
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "OGG"),
    (0, b"ID3", "MP3"),
    (4, b"ftyp", "M4A/MP4"),
    (0, b"FORM", "AIFF"),
    (0, b"caff", "CAF"),
)

_SUBTYPE_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64}
_PCM_CODEC_BITS = re.compile(r"pcm_[suf](\d+)")


@dataclass(frozen=True)
class AudioInfo:
    """A file's audio stream as stored (before any conversion).

    ``frames``: samples per channel; ``duration_s = frames / sample_rate``. ``exact`` is False
    where the container only gives an estimate (e.g. mp3 without a VBR header, ADTS AAC).
    ``bit_depth``: bits per stored sample for PCM/FLAC (float: 32 or 64), None for lossy codecs.
    """

    path: Path
    format: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float
    frames: int
    bit_depth: int | None
    backend: str  # "soundfile" or "pyav"
    exact: bool = True

    def describe(self) -> str:
        """One line for a dialog or the CLI, e.g. ``FLAC (FLAC), 44100 Hz, 2 ch, 24-bit, 0:03:12``."""
        bits = f", {self.bit_depth}-bit" if self.bit_depth else ""
        total = int(round(self.duration_s))
        return (
            f"{self.format} ({self.codec}), {self.sample_rate} Hz, {self.channels} ch{bits}, "
            f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"
        )


def check_file(path: str | os.PathLike[str]) -> tuple[Path, bytes]:
    """The file's ``Path`` and first 64 bytes, or an :class:`AudioError` saying why it can't be read."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise AudioError(f"Audio file not found: {p}") from None
    except PermissionError:
        raise AudioError(f"No permission to read {p} (a folder on its path is not accessible)") from None
    except OSError as exc:
        raise AudioError(f"Cannot read {p}: {os_problem(exc)}") from None
    if p.is_dir():
        raise AudioError(f"{p} is a folder, not an audio file")
    if not p.is_file():
        raise AudioError(f"{p} is not a regular file (a device, pipe or socket)")
    try:
        with open(p, "rb") as fh:
            head = fh.read(64)
    except PermissionError:
        raise AudioError(f"No permission to read {p}") from None
    except OSError as exc:
        raise AudioError(f"Cannot read {p}: {os_problem(exc)}") from None
    if st.st_size == 0 or not head:
        raise AudioError(f"{p} is empty (0 bytes)")
    return p, head


_DIGEST_BLOCK = 1 << 20


def head_tail_digest(path: str | os.PathLike[str]) -> str:
    """``"<size>:<sha256 of the first and last MiB>"``: a fingerprint of a file's content that
    costs milliseconds whatever its length (a cut, grown or replaced file gets another one).
    ``OSError`` propagates."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        digest.update(fh.read(_DIGEST_BLOCK))
        if size > 2 * _DIGEST_BLOCK:
            fh.seek(size - _DIGEST_BLOCK)
            digest.update(fh.read(_DIGEST_BLOCK))
        elif size > _DIGEST_BLOCK:
            digest.update(fh.read())
    return f"{size}:{digest.hexdigest()}"


def sniff(head: bytes) -> str | None:
    """The audio format a file's first bytes announce (``"WAV"``, ``"MP3"``, ...), or None."""
    for offset, magic, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return "AAC"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "MP3"
    return None


def unreadable(path: Path, head: bytes, detail: str = "") -> AudioError:
    """The error for a file no back end could open: corrupt if it claims to be audio, else unsupported."""
    claimed = sniff(head)
    ext = path.suffix.lower().lstrip(".")
    why = f" ({detail})" if detail else ""
    if claimed is not None:
        return AudioError(f"{path} is corrupt: not a valid {claimed} file{why}")
    if ext in AUDIO_EXTENSIONS:
        return AudioError(f"{path} is corrupt or not really a .{ext} file: no audio decoder recognises it{why}")
    return AudioError(f"{path}: unsupported format (not an audio file this app can read; use {SUPPORTED})")


def truncated(path: Path, promised_s: float, found_s: float) -> AudioError:
    return AudioError(
        f"{path} is truncated: its header promises {promised_s:.1f} s of audio but the file holds {found_s:.1f} s"
    )


_DATA_SHOULD_BE = re.compile(r"data\s*:\s*(\d+)\s*\(should be (\d+)\)")


def _soundfile_info(path: Path, head: bytes) -> AudioInfo | None:
    """:class:`AudioInfo` from libsndfile, or None if libsndfile does not read this file (or it is MP3)."""
    if sniff(head) == "MP3" or path.suffix.lower() == ".mp3":
        return None  # PyAV handles mp3 (gapless header; libsndfile's mpg123 prints to stderr)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None
    if info.format == "MP3":
        return None
    log = info.extra_info or ""
    bits = _SUBTYPE_BITS.get(info.subtype)
    # A WAV whose data chunk says more bytes than the file holds: libsndfile silently shortens it.
    m = _DATA_SHOULD_BE.search(log)
    if m and bits and info.channels:
        declared, present = int(m.group(1)), int(m.group(2))
        frame_bytes = info.channels * max(1, bits // 8)
        if declared - present >= frame_bytes:
            raise truncated(path, declared / frame_bytes / info.samplerate, info.frames / info.samplerate)
    if info.frames <= 0:
        if "ended unexpectedly" in log or "should be" in log or "lacks an end-of-stream" in log:
            raise AudioError(f"{path} is truncated: the file ends before its first audio data")
        raise AudioError(f"{path} contains no audio (0 samples)")
    if info.format == "OGG" and "lacks an end-of-stream" in log:
        raise AudioError(
            f"{path} is truncated: the Ogg stream stops without its end marker after {info.frames / info.samplerate:.1f} s"
        )
    return AudioInfo(
        path=path,
        format=info.format,
        codec=info.subtype,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        duration_s=info.frames / info.samplerate,
        frames=int(info.frames),
        bit_depth=bits,
        backend="soundfile",
    )


def _pyav_format_name(container_format: str, path: Path) -> str:
    names = container_format.split(",")
    if "mp4" in names or "mov" in names:
        return "M4A" if path.suffix.lower() in (".m4a", ".m4b") else "MP4"
    if names[0] == "adts" or names[0] == "aac":
        return "AAC"
    return names[0].upper()


def open_pyav(path: Path, head: bytes):
    """``(container, audio stream)`` opened with PyAV; AudioError if it can't be or has no audio track."""
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except EOFError:
        raise AudioError(f"{path} is truncated: the file ends before its first audio data") from None
    except av.error.FFmpegError as exc:
        raise unreadable(path, head, _ffmpeg_reason(exc)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise unreadable(path, head, str(exc)) from None
    if not container.streams.audio:
        kinds: list[str] = sorted({s.type for s in container.streams}) or ["nothing"]
        fmt = container.format.name.split(",")[0]
        container.close()
        if sniff(head) is None and path.suffix.lower().lstrip(".") not in AUDIO_EXTENSIONS:
            raise AudioError(f"{path}: unsupported format ({fmt} holding {'/'.join(kinds)}, no audio track)")
        raise AudioError(f"{path} has no audio track (it holds {'/'.join(kinds)})")
    return container, container.streams.audio[0]


def _ffmpeg_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(":")[0].strip().rstrip(".").lower() or type(exc).__name__


def _mp3_has_vbr_header(path: Path) -> bool:
    """Whether an mp3 starts with a Xing/Info/VBRI frame, i.e. states its exact length."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(10)
            offset = 0
            if data[:3] == b"ID3" and len(data) == 10:
                size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
                offset = 10 + size + (10 if data[5] & 0x10 else 0)
            fh.seek(offset)
            data = fh.read(8192)
    except OSError:
        return False
    for i in range(len(data) - 1):
        if data[i] == 0xFF and (data[i + 1] & 0xE0) == 0xE0:
            frame = data[i : i + 200]
            return b"Xing" in frame or b"Info" in frame or b"VBRI" in frame
    return False


def _pyav_info(path: Path, head: bytes) -> AudioInfo:
    container, stream = open_pyav(path, head)
    try:
        ctx = stream.codec_context
        rate = int(stream.rate or ctx.sample_rate or 0)
        channels = int(ctx.channels or 0)
        if rate <= 0 or channels <= 0:
            raise AudioError(f"{path} is corrupt: its audio track has no sample rate or channel count")
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        fmt = _pyav_format_name(container.format.name, path)
        m = _PCM_CODEC_BITS.match(ctx.name or "")
        bits = int(m.group(1)) if m else (ctx.bits_per_raw_sample or None) if ctx.name == "flac" else None
        return AudioInfo(
            path=path,
            format=fmt,
            codec="mp3" if (ctx.name or "").startswith("mp3") else ctx.name,
            sample_rate=rate,
            channels=channels,
            duration_s=max(0.0, duration),
            frames=int(round(max(0.0, duration) * rate)),
            bit_depth=bits,
            backend="pyav",
            exact=fmt in ("M4A", "MP4", "WAV", "FLAC") or (fmt == "MP3" and _mp3_has_vbr_header(path)),
        )
    finally:
        container.close()


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read a file's header: format, codec, rate, channels, duration, bit depth.

    Raises :class:`AudioError` (one sentence) for a missing file, a folder, no permission, an
    empty file, a truncated or corrupt file, an unsupported format, or a file with no audio.
    Cheap: it does not decode the audio (a truncated FLAC/mp3 body is found by decoding).
    """
    p, head = check_file(path)
    return probe_checked(p, head)


def probe_checked(path: Path, head: bytes) -> AudioInfo:
    """:func:`probe` for a file :func:`check_file` has passed (``head``: its first bytes)."""
    info = _soundfile_info(path, head)
    return info if info is not None else _pyav_info(path, head)
