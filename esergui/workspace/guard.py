"""What keeps a damaged, full, read-only or shared workspace from turning into tracebacks.

* :func:`failure` turns a ``sqlite3``/``OSError`` into one :class:`WorkspaceError` sentence
  that names the cause (disk full, read-only, damaged, too long a path) instead of SQLite's
  own words ("cannot rollback - no transaction is active", "attempt to write a readonly
  database").
* :class:`DamagedData` is raised while reading a row that does not decode (broken JSON, a
  flipped byte, a bad enum or embedding); :func:`reporting_lesson` names the lesson in it.
* :func:`check_layout` refuses a workspace whose ``cache``/``recordings``/``enrolment`` is a
  file, or that cannot be written, with the reason.
* :class:`AnalysisLocks`: a lesson being analysed holds a shared ``flock`` on
  ``.locks/lesson-<id>.lock``; the kernel drops it when the process dies (``kill -9``
  included), so a lesson marked ``analysing`` whose lock nobody holds was interrupted and is
  recovered when the workspace opens.
* :func:`clean_name`, :func:`clean_note`: names and notes keep no control characters
  (they would make XML exports invalid and spreadsheets misread rows).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from esergui.errors import WorkspaceError, os_problem

if TYPE_CHECKING:
    from esergui.workspace import Workspace

try:  # POSIX; elsewhere an interrupted analysis is recovered by re-analysing
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCKS_DIR = ".locks"
SUBFOLDERS = ("recordings", "cache", "enrolment")


class DamagedData(WorkspaceError):
    """A row of the workspace database does not decode (its detail says which and what)."""


# ----------------------------------------------------------------------------- errors

_DAMAGED_WORDS = (
    "malformed",
    "not a database",
    "could not decode",
    "file is encrypted",
    "corrupt",
    "no such column",
    "no such table",
)  # the last two: a damaged schema


def failure(db_path: Path, exc: BaseException, doing: str = "use") -> WorkspaceError:
    """One sentence for an error met while ``doing`` something with the database at ``db_path``."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = text.lower()
    if any(word in lowered for word in _DAMAGED_WORDS):
        return DamagedData(
            f"{db_path}: the workspace database is damaged ({text}); restore it from a backup "
            f"(a .bak copy sits next to it after each upgrade)"
        )
    problem = os_problem(exc)
    if problem != text:  # a cause we can name
        return WorkspaceError(f"{db_path.parent}: cannot {doing} the workspace: {problem}; nothing was changed")
    if "locked" in lowered or "busy" in lowered:
        return WorkspaceError(f"{db_path.parent}: the workspace is busy in another program; try again in a moment")
    return WorkspaceError(f"{db_path.parent}: cannot {doing} the workspace ({text})")


def json_cell(value: Any, what: str) -> Any:
    """``json.loads(value)`` or :class:`DamagedData` naming ``what`` (e.g. ``utterance 12: note``)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError, RecursionError):
        shown = repr(value)[:40]
        raise DamagedData(f"{what}: the stored JSON is broken ({shown})") from None


F = TypeVar("F", bound=Callable[..., Any])

#: Errors that mean "a stored value does not decode", turned into :class:`DamagedData`.
DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError, RecursionError)


def reporting_lesson(method: F) -> F:
    """For ``Workspace`` methods whose first argument is a lesson id: a row that does not
    decode raises one :class:`WorkspaceError` naming the lesson and what is damaged."""

    @functools.wraps(method)
    def wrapper(self: Any, lesson_id: int, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, lesson_id, *args, **kwargs)
        except DamagedData as exc:
            raise DamagedData(f"{_lesson_label(self, lesson_id)} in {self.folder} is damaged: {exc}") from None
        except DECODE_ERRORS as exc:
            raise DamagedData(
                f"{_lesson_label(self, lesson_id)} in {self.folder} is damaged: "
                f"a stored value does not decode ({type(exc).__name__}: {str(exc)[:80]})"
            ) from None

    return wrapper  # type: ignore[return-value]


def reporting_workspace(method: F) -> F:
    """For ``Workspace`` methods not about one lesson: a row that does not decode raises one
    :class:`DamagedData` that names the workspace folder."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except DamagedData as exc:
            if str(self.folder) in str(exc):
                raise
            raise DamagedData(f"the workspace {self.folder} is damaged: {exc}") from None
        except DECODE_ERRORS as exc:
            raise DamagedData(
                f"the workspace {self.folder} is damaged: a stored value does not decode "
                f"({type(exc).__name__}: {str(exc)[:80]})"
            ) from None

    return wrapper  # type: ignore[return-value]


def _lesson_label(ws: Workspace, lesson_id: int) -> str:
    try:
        row = ws._con.execute("SELECT name FROM lessons WHERE id = ?", (lesson_id,)).fetchone()
        return f"lesson '{row[0]}' (id {lesson_id})" if row else f"lesson id {lesson_id}"
    except (sqlite3.Error, ValueError):
        return f"lesson id {lesson_id}"


# ----------------------------------------------------------------------------- the folder


def check_layout(folder: Path, db: Path, creating: bool) -> None:
    """Refuse a workspace whose sub-folders are files or that cannot be written, saying why."""
    for sub in SUBFOLDERS:
        path = folder / sub
        if path.exists() and not path.is_dir():
            raise WorkspaceError(
                f"{path}: is a file where the workspace keeps its '{sub}' folder; "
                "move or rename that file and open the workspace again"
            )
    target = folder if creating or not db.exists() else db
    if not os.access(target, os.W_OK) or not os.access(folder, os.W_OK | os.X_OK):
        raise WorkspaceError(
            f"{folder}: the workspace is read-only (no permission to write there); "
            "copy it to a writable folder or change its permissions"
        )
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return
    if st.f_flag & getattr(os, "ST_RDONLY", 1):
        raise WorkspaceError(f"{folder}: the workspace is on a read-only disk; copy it to a writable folder")


def make_subfolders(folder: Path) -> None:
    for sub in (*SUBFOLDERS, LOCKS_DIR):
        try:
            (folder / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"{folder / sub}: cannot create the workspace folder: {os_problem(exc)}") from None


# ----------------------------------------------------------------------------- analysing


class AnalysisLocks:
    """Shared ``flock``s held while this process analyses lessons (see the module doc)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / LOCKS_DIR
        self._held: dict[int, list[int]] = {}
        self._mutex = threading.Lock()  # GUI workers may analyse several lessons at once

    def _path(self, lesson_id: int) -> Path:
        return self.folder / f"lesson-{int(lesson_id)}.lock"

    def hold(self, lesson_id: int) -> None:
        """Mark that this process analyses ``lesson_id`` (several may, each holds its own)."""
        if fcntl is None:
            return
        try:
            self.folder.mkdir(exist_ok=True)
            fd = os.open(self._path(lesson_id), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return  # no lock: recovery then waits for a re-analysis, as before
        fcntl.flock(fd, fcntl.LOCK_SH)
        with self._mutex:
            self._held.setdefault(int(lesson_id), []).append(fd)

    def release(self, lesson_id: int) -> None:
        """This process's analysis of ``lesson_id`` ended (one hold released)."""
        with self._mutex:
            fds = self._held.get(int(lesson_id))
            if fds:
                os.close(fds.pop())  # closing the descriptor drops its flock
            if not fds:
                self._held.pop(int(lesson_id), None)

    def release_all(self) -> None:
        for lesson_id in list(self._held):
            while self._held.get(lesson_id):
                self.release(lesson_id)

    def in_progress(self, lesson_id: int) -> bool:
        """Whether any process (this one included) holds ``lesson_id``'s analysis lock."""
        if fcntl is None:
            return True  # cannot tell: never reset another program's analysis
        with self._mutex:
            if self._held.get(int(lesson_id)):
                return True
        try:
            fd = os.open(self._path(lesson_id), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # also drops the probe's lock
        return False


# ----------------------------------------------------------------------------- text

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]+")


def clean_name(text: str) -> str:
    """A one-line name: control characters (tabs and line breaks included) become one space."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def clean_note(text: str) -> str:
    """A note keeps tabs and line breaks (CR LF and CR become LF) but no other control characters."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _NOTE_CONTROL.sub("", text)
