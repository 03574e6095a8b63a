"""The workspace store: a folder with ``workspace.sqlite`` and the files lessons need.

Layout::

    WORKSPACE/
      workspace.sqlite   lessons, utterances, speakers, edits, runs, voices, models, settings
      recordings/        lessons recorded in the app
      cache/             16 kHz decode caches (safe to delete)
      enrolment/         enrolled teacher voices' recordings

The database runs in WAL mode with foreign keys on and ``synchronous=FULL``; every public
write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a crash or a killed process
loses nothing that a call already returned. One connection is shared by the threads of a
process under a lock (:mod:`esergui.workspace.connection`, the base of the classes here).
The class is put together from parts: reads in :mod:`esergui.workspace.reading`, storing
analysis runs in :mod:`esergui.workspace.analysis`, human edits of utterances in :mod:`esergui.workspace.edits` and of speakers in
:mod:`esergui.workspace.speaker_edits`,
teacher voices, model rows and settings in :mod:`esergui.workspace.voices`; opening, lessons
and their audio files are here.
"""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from esergui.errors import AudioError, WorkspaceError, os_problem
from esergui.lesson import Lesson, LessonStatus
from esergui.workspace import hashing, schema
from esergui.workspace.analysis import AnalysisMixin
from esergui.workspace.connection import DB_NAME, inserted_id
from esergui.workspace.edits import EditsMixin
from esergui.workspace.guard import check_layout, clean_name, failure, make_subfolders
from esergui.workspace.reading import LESSON_COLUMNS, lesson_from_row
from esergui.workspace.speaker_edits import SpeakerEditsMixin
from esergui.workspace.voices import VoicesModelsMixin


class Workspace(EditsMixin, SpeakerEditsMixin, VoicesModelsMixin, AnalysisMixin):
    """A workspace folder. Open with :meth:`open`; close (or use as a context manager).

    ``user`` names who makes the edits (default: the login name)."""

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, folder: str | Path, create: bool = True, user: str | None = None) -> Workspace:
        """Open the workspace in ``folder`` (created when missing and ``create``), migrating an
        older schema after backing it up. Raises :class:`WorkspaceError` for a folder that is
        a file, a database that is damaged, foreign, tampered with or newer than this code."""
        folder = Path(folder).expanduser().absolute()
        try:
            con = cls._connect(folder, create)
        except OSError as exc:  # a path too long, a folder we may not enter, ...
            raise WorkspaceError(f"{folder}: cannot open the workspace: {os_problem(exc)}") from None
        ws = cls(folder, con, user or _login())
        ws.recover_interrupted()
        return ws

    @staticmethod
    def _connect(folder: Path, create: bool) -> sqlite3.Connection:
        if folder.exists() and not folder.is_dir():
            raise WorkspaceError(f"{folder}: is a file, not a workspace folder")
        db = folder / DB_NAME
        creating = not db.exists()
        if creating:
            if not create:
                raise WorkspaceError(f"{folder}: no workspace here (no {DB_NAME})")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkspaceError(f"{folder}: cannot create the workspace folder: {os_problem(exc)}") from None
        elif not db.is_file():
            raise WorkspaceError(f"{db}: is not a file")
        check_layout(folder, db, creating)
        version = schema.inspect(db) if db.exists() else 0
        try:
            con = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=10.0)
        except sqlite3.Error as exc:
            raise failure(db, exc, "open") from None
        try:
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
            schema.migrate(con, db, version)
        except sqlite3.Error as exc:
            con.close()
            raise failure(db, exc, "open") from None
        except BaseException:
            con.close()
            raise
        make_subfolders(folder)
        return con

    def close(self) -> None:
        with self._lock:
            self._analysing.release_all()
            self._con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ lessons
    def add_lesson(self, audio_path: str | Path, name: str | None = None, duration_s: float | None = None) -> Lesson:
        """Add a lesson for an audio file (hashing it), or return the lesson that already has
        a file with the same content (re-pointing it here when its old path is gone)."""
        path = Path(audio_path).expanduser().absolute()
        fp = hashing.fingerprint(path)
        stored = self._store_path(path)
        with self._tx() as con:
            row = con.execute(
                f"SELECT {LESSON_COLUMNS} FROM lessons WHERE audio_sha256 = ? ORDER BY id", (fp.sha256,)
            ).fetchone()
            if row is not None:
                lesson = lesson_from_row(row)
                if not self.audio_file(lesson).is_file():
                    con.execute("UPDATE lessons SET audio_path = ? WHERE id = ?", (stored, lesson.id))
                    lesson.audio_path = stored
                return lesson
            lesson = Lesson(
                name=clean_name(name or path.stem) or "lesson",
                audio_path=stored,
                audio_size=fp.size,
                audio_quick_hash=fp.quick,
                audio_sha256=fp.sha256,
                duration_s=duration_s,
            )
            cur = con.execute(
                "INSERT INTO lessons (name, audio_path, audio_size, audio_quick_hash, audio_sha256, duration_s, created, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    lesson.name,
                    lesson.audio_path,
                    fp.size,
                    fp.quick,
                    fp.sha256,
                    duration_s,
                    lesson.created,
                    lesson.status.value,
                ),
            )
            lesson.id = inserted_id(cur)
        return lesson

    def _store_path(self, path: Path) -> str:
        """Paths inside the workspace folder are stored relative to it (the folder can move)."""
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return str(path)

    def audio_file(self, lesson: Lesson) -> Path:
        """The absolute path of a lesson's audio (it may be missing: see :meth:`find_audio`)."""
        path = Path(lesson.audio_path)
        return path if path.is_absolute() else self.folder / path

    def rename_lesson(self, lesson_id: int, name: str) -> None:
        name = clean_name(name)
        if not name:
            raise WorkspaceError("a lesson name cannot be empty")
        with self._tx() as con:
            old = self.lesson(lesson_id).name
            con.execute("UPDATE lessons SET name = ? WHERE id = ?", (name, lesson_id))
            self._log(lesson_id, "rename_lesson", (), old, name)

    def remove_lesson(self, lesson_id: int) -> None:
        """Remove a lesson and everything stored for it (not its audio file)."""
        with self._tx() as con:
            self.lesson(lesson_id)
            con.execute("DELETE FROM lessons WHERE id = ?", (lesson_id,))

    def set_status(self, lesson_id: int, status: LessonStatus) -> None:
        status = LessonStatus(status)
        with self._tx() as con:
            con.execute("UPDATE lessons SET status = ? WHERE id = ?", (status.value, lesson_id))
        if status is not LessonStatus.ANALYSING:
            self._analysing.release(lesson_id)

    def set_duration(self, lesson_id: int, duration_s: float) -> None:
        with self._tx() as con:
            con.execute("UPDATE lessons SET duration_s = ? WHERE id = ?", (float(duration_s), lesson_id))

    def relocate(self, lesson_id: int, new_path: str | Path) -> Lesson:
        """Point a lesson at its audio's new place after verifying the content (size, quick
        hash, then whole-file SHA-256). Raises :class:`WorkspaceError` when it differs."""
        lesson = self.lesson(lesson_id)
        path = Path(new_path).expanduser().absolute()
        try:
            same = (
                hashing.quick_hash(path) == lesson.audio_quick_hash and hashing.full_hash(path) == lesson.audio_sha256
            )
        except AudioError as exc:
            raise WorkspaceError(f"cannot relocate lesson '{lesson.name}': {exc}") from None
        if not same:
            raise WorkspaceError(f"{path} is not the audio of lesson '{lesson.name}' (its content differs)")
        with self._tx() as con:
            con.execute("UPDATE lessons SET audio_path = ? WHERE id = ?", (self._store_path(path), lesson_id))
            self._log(lesson_id, "relocate", (), lesson.audio_path, str(path))
        return self.lesson(lesson_id)

    def find_audio(self, lesson_id: int, search: Iterable[str | Path] = ()) -> Path:
        """The lesson's audio file: at its stored path when the content still matches, else
        found by content under ``search`` folders (and ``recordings/``) and relocated.
        Raises :class:`WorkspaceError` when it cannot be found."""
        lesson = self.lesson(lesson_id)
        path = self.audio_file(lesson)
        try:
            if path.is_file() and hashing.quick_hash(path) == lesson.audio_quick_hash:
                return path
        except AudioError:
            pass
        folders = [Path(f) for f in search] + [self.recordings_dir]
        for candidate in hashing.iter_candidates(folders, lesson.audio_size):
            try:
                if hashing.quick_hash(candidate) == lesson.audio_quick_hash:
                    return self.audio_file(self.relocate(lesson_id, candidate))
            except (AudioError, WorkspaceError):
                continue
        raise WorkspaceError(
            f"the audio of lesson '{lesson.name}' is missing or changed ({path}); locate the file to relocate it"
        )

    def cache_file(self, lesson: Lesson) -> Path:
        """Where the lesson's 16 kHz decode cache lives (``cache/<hash>_16k.wav``)."""
        return self.cache_dir / f"{lesson.audio_sha256[:20]}_16k.wav"


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


__all__ = ["Workspace"]
