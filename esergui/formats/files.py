"""Writing output files safely: all or nothing, with errors a person can act on.

Every file an export writes goes through :func:`write_atomic`: the bytes go to a short,
unique temporary name in the target folder (``.eser-<random>.tmp``, short so that a long
target name cannot make it too long), are flushed to disk, and only then renamed over the
target. A full disk, a read-only folder or a killed process therefore never leaves a 0-byte
or half-written file under the target name; the temporary file is removed on failure.

Errors are :class:`ExportError` with one line naming the file and the cause in words
("the disk is full", "the folder is read-only", "permission denied", "the name is too long").
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from esergui.errors import EserError, os_problem


class ExportError(EserError):
    """An export could not be written (folder not writable, disk full...) or was asked for
    something it cannot do (an unknown format)."""


def write_atomic(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Let ``write(tmp)`` create a temporary file beside ``path``, then move it to ``path``.

    ``write`` may be a library's own writer (praatio, pympi) that takes a file name. Raises
    :class:`ExportError` (nothing left behind) when anything fails with an ``OSError``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {os_problem(exc)}") from None
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(prefix=".eser-", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {os_problem(exc)}") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return path


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing (see :func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` all or nothing, with ``\\n`` line ends as given."""
    return write_bytes(path, text.encode(encoding))
