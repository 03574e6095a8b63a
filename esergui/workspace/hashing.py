"""Content fingerprints of audio files, so a moved or renamed recording can be found again.

Two levels: a *quick hash* (file size plus SHA-256 of the first and last MiB; milliseconds
even for a 3-hour file) to find candidates, and the *full* SHA-256 of the whole file, read in
1 MiB blocks (bounded memory), to verify a candidate.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from esergui.audio.info import check_file, head_tail_digest
from esergui.errors import AudioError, os_problem
from esergui.progress import CancelToken, ProgressCallback, check, report

_BLOCK = 1 << 20


@dataclass(frozen=True)
class Fingerprint:
    size: int
    quick: str  # "<size>:<hex sha256 of head+tail>"
    sha256: str  # hex sha256 of the whole file ("" when not computed)


def _stat_file(path: Path) -> int:
    """Size of a readable regular file (the audio layer's checks and messages)."""
    return check_file(path)[0].stat().st_size


def quick_hash(path: str | os.PathLike[str]) -> str:
    """``"<size>:<sha256 of the first and last MiB>"`` of a file."""
    path = Path(path)
    _stat_file(path)
    try:
        return head_tail_digest(path)
    except PermissionError:
        raise AudioError(f"{path}: permission denied") from None
    except OSError as exc:
        raise AudioError(f"Cannot read {path}: {os_problem(exc)}") from None


def full_hash(
    path: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> str:
    """Hex SHA-256 of the whole file, read in 1 MiB blocks."""
    path = Path(path)
    size = max(1, _stat_file(path))
    digest = hashlib.sha256()
    done = 0
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(_BLOCK), b""):
                digest.update(block)
                done += len(block)
                if done % (64 * _BLOCK) < _BLOCK:
                    check(cancel)
                    report(progress, done / size, "hashing")
    except PermissionError:
        raise AudioError(f"{path}: permission denied") from None
    return digest.hexdigest()


def fingerprint(path: str | os.PathLike[str], full: bool = True) -> Fingerprint:
    """Size, quick hash and (``full=True``) whole-file SHA-256 of ``path``."""
    path = Path(path)
    return Fingerprint(_stat_file(path), quick_hash(path), full_hash(path) if full else "")


def iter_candidates(folders: Iterable[str | os.PathLike[str]], size: int) -> Iterator[Path]:
    """Files of exactly ``size`` bytes below ``folders`` (recursively, links not followed)."""
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                candidate = Path(root) / name
                try:
                    if candidate.stat().st_size == size and candidate.is_file():
                        yield candidate
                except OSError:
                    continue
