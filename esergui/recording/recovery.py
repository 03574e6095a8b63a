"""Finding and repairing recordings whose recorder died (crash, power cut, SIGKILL).

While a recording runs, a marker ``NAME.EXT.partial`` (JSON: format, rate, channels, device,
start time, pid, host) sits next to ``NAME.EXT``; the recorder touches it at every flush and
removes it after closing the file cleanly. A marker that is left behind, whose process is gone
(or that has not been touched for :data:`STALE_SECONDS`), names an unfinished recording:
:func:`find_unfinished` lists them, :func:`repair_recording` makes the file playable and
removes the marker, :func:`discard_recording` deletes both.

The marker is also the recording's claim on its file name: :func:`write_marker` creates it
atomically and refuses while another recorder is alive on that file, so two ``record`` runs to
one file cannot both write it. A recording killed before any audio arrived holds nothing:
repairing it removes the empty file and its marker and says so (:class:`EmptyRecording`).
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from esergui.errors import AudioError, DeviceError, os_problem
from esergui.recording.files import file_format, repair_audio_file

MARKER_SUFFIX = ".partial"
#: A marker not touched for this long is unfinished even if its pid is alive (pid reuse).
STALE_SECONDS = 30.0


def marker_path(audio: str | Path) -> Path:
    """The marker that says ``audio`` is being (or was being) recorded."""
    audio = Path(audio)
    return audio.with_name(audio.name + MARKER_SUFFIX)


class EmptyRecording(AudioError):
    """An unfinished recording held no audio at all; its file and marker were removed."""


def write_marker(
    audio: str | Path, *, samplerate: int, channels: int, device: str, replace_unfinished: bool = True
) -> Path:
    """Create the marker for a recording that starts now, claiming the file name.

    Raises :class:`DeviceError` while another recorder is alive on ``audio``, and (unless
    ``replace_unfinished``) :class:`AudioError` when ``audio`` is an unfinished recording that
    a dead recorder left (repair it first)."""
    audio = Path(audio)
    info = {
        "version": 1,
        "file": audio.name,
        "format": file_format(audio),
        "samplerate": int(samplerate),
        "channels": int(channels),
        "device": device,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    marker = marker_path(audio)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{marker.name}.", suffix=".tmp", dir=marker.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(info, indent=1))
    except OSError as exc:
        raise DeviceError(f"The recording file {audio} cannot be created: {os_problem(exc)}.") from None
    tmp = Path(name)
    try:
        while not _link_exclusive(tmp, marker):
            _refuse_if_taken(audio, marker, replace_unfinished)
            marker.unlink(missing_ok=True)  # a dead recorder's marker on a file we may replace
    finally:
        tmp.unlink(missing_ok=True)
    return marker


def _link_exclusive(tmp: Path, marker: Path) -> bool:
    """Put ``tmp`` in place as ``marker`` unless a marker exists (atomically); False if it does."""
    try:
        os.link(tmp, marker)
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links (FAT): not atomic, but still checked
        if marker.exists():
            return False
        os.replace(tmp, marker)
        return True


def _refuse_if_taken(audio: Path, marker: Path, replace_unfinished: bool) -> None:
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        live = isinstance(info, dict) and _is_live(info, marker)
    except (OSError, ValueError, TypeError, OverflowError):
        info, live = {}, False
    info = info if isinstance(info, dict) else {}
    if live:
        raise DeviceError(
            f"Another recording (process {info.get('pid', '?')}) is being written to {audio}; choose another file name."
        )
    if audio.exists() and not replace_unfinished:
        raise AudioError(
            f"{audio} is an unfinished recording a crash left behind; run "
            f"`esergui record --repair {audio}` first, or choose another name."
        )


def touch_marker(audio: str | Path) -> None:
    """Mark the recording of ``audio`` as alive (mtime = now)."""
    try:
        os.utime(marker_path(audio))
    except OSError:
        pass


def remove_marker(audio: str | Path) -> None:
    marker_path(audio).unlink(missing_ok=True)


@dataclass(frozen=True)
class UnfinishedRecording:
    """A recording left behind by a recorder that died: ``path`` (the audio) and its ``marker``."""

    path: Path
    marker: Path
    samplerate: int
    channels: int
    device: str
    started: str
    size_bytes: int

    @property
    def seconds_estimate(self) -> float:
        """Roughly how much audio the file holds (exact for WAV, an upper bound for FLAC)."""
        return max(0, self.size_bytes - 44) / max(1, self.samplerate * self.channels * 2)


def _pid_alive(pid: int) -> bool:
    if os.name != "posix" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_live(info: dict, marker: Path) -> bool:
    """True while another process is still recording into this file."""
    fresh = time.time() - marker.stat().st_mtime < STALE_SECONDS
    same_host = info.get("host") == socket.gethostname()
    if info.get("pid") == os.getpid() and same_host:
        return fresh  # a recorder in this very process
    return fresh and same_host and _pid_alive(int(info.get("pid", -1)))


def find_unfinished(folder: str | Path) -> list[UnfinishedRecording]:
    """Unfinished recordings in ``folder`` (not recursive), oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for marker in sorted(folder.glob("*" + MARKER_SUFFIX)):
        audio = marker.with_name(marker.name[: -len(MARKER_SUFFIX)])
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            if not isinstance(info, dict):
                raise ValueError("not a marker")
            if _is_live(info, marker):
                continue
        except (OSError, ValueError, TypeError, OverflowError):
            info = {}  # a damaged marker: its recording is unfinished, details unknown
        if not audio.is_file():
            marker.unlink(missing_ok=True)  # nothing left to recover
            continue
        found.append(
            UnfinishedRecording(
                path=audio,
                marker=marker,
                samplerate=_count(info.get("samplerate")),
                channels=_count(info.get("channels")),
                device=str(info.get("device", "")),
                started=str(info.get("started", "")),
                size_bytes=audio.stat().st_size,
            )
        )
    return sorted(found, key=lambda r: r.started)


def _count(value: object) -> int:
    """A positive whole number from a marker, or 0 when it is missing or damaged."""
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return 0


@dataclass(frozen=True)
class RepairResult:
    path: Path
    frames: int
    samplerate: int
    seconds: float


def repair_recording(recording: UnfinishedRecording | str | Path) -> RepairResult:
    """Make an unfinished recording's file playable (fix the WAV header / re-encode the FLAC).

    Removes the marker on success. A file that holds no audio at all (the recorder died before
    any arrived) is removed with its marker and :class:`EmptyRecording` says so; a file that
    cannot be read is left as it is and :class:`AudioError` says why. Nothing else is raised.
    """
    import soundfile as sf

    path = recording.path if isinstance(recording, UnfinishedRecording) else Path(recording)
    if not path.is_file():
        remove_marker(path)
        raise AudioError(f"The unfinished recording {path} no longer exists.")
    frames = repair_audio_file(path)
    if frames <= 0:
        discard_recording(path)
        raise EmptyRecording(
            f"{path.name} held no audio (the recording stopped before any sound arrived); the empty file was removed."
        )
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"{path.name} was repaired but still cannot be read ({exc}).") from None
    remove_marker(path)
    return RepairResult(path, int(info.frames), int(info.samplerate), float(info.frames) / info.samplerate)


def discard_recording(recording: UnfinishedRecording | str | Path) -> None:
    """Delete an unfinished recording and its marker."""
    path = recording.path if isinstance(recording, UnfinishedRecording) else Path(recording)
    path.unlink(missing_ok=True)
    remove_marker(path)
