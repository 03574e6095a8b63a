"""Disk-space checks before and during a recording.

A recording needs ``bytes_per_second`` (16-bit PCM: ``rate * channels * 2``; FLAC needs less,
so this is the safe bound). :func:`disk_status` turns the free space into minutes of recording
left, a warning once fewer than ``warn_s`` seconds remain and ``critical`` below ``critical_s``
(the recorder then refuses to start, or stops and keeps what it has).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

#: Warn when less than this much recording time fits on the disk (seconds).
WARN_SECONDS = 30 * 60
#: Refuse to start / stop recording when less than this fits (seconds).
CRITICAL_SECONDS = 30
#: ... or when fewer bytes than this are free, whatever the rate.
CRITICAL_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class DiskStatus:
    """Free bytes on the disk holding ``folder`` and what they mean for a recording."""

    folder: Path
    free_bytes: int
    bytes_per_second: float
    seconds_left: float
    warning: str | None
    critical: bool


def pcm_bytes_per_second(samplerate: float, channels: int) -> float:
    """Bytes per second of 16-bit PCM audio (the upper bound for WAV and FLAC)."""
    return float(samplerate) * int(channels) * 2


def _human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _human_duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{max(0.0, seconds):.0f} seconds"


def disk_status(
    folder: str | Path,
    bytes_per_second: float,
    *,
    free_bytes: int | None = None,
    warn_s: float = WARN_SECONDS,
    critical_s: float = CRITICAL_SECONDS,
) -> DiskStatus:
    """How long a recording at ``bytes_per_second`` can go on in ``folder``.

    ``free_bytes`` overrides the measured free space (``shutil.disk_usage``), for tests and
    for callers that know better (quotas).
    """
    folder = Path(folder)
    if free_bytes is None:
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free_bytes = shutil.disk_usage(probe).free
    seconds_left = free_bytes / bytes_per_second if bytes_per_second > 0 else float("inf")
    critical = seconds_left < critical_s or free_bytes < CRITICAL_BYTES
    warning = None
    if critical:
        warning = (
            f"The disk holding {folder} is full ({_human_bytes(free_bytes)} free): "
            "free some space or record to another folder."
        )
    elif seconds_left < warn_s:
        warning = (
            f"Only {_human_bytes(free_bytes)} free on the disk holding {folder}: "
            f"about {_human_duration(seconds_left)} of recording left."
        )
    return DiskStatus(folder, int(free_bytes), float(bytes_per_second), seconds_left, warning, critical)
