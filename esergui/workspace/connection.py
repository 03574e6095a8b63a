"""The workspace's database connection and its transaction helpers.

:class:`WorkspaceConnection` is the base of :class:`esergui.workspace.Workspace` and of the
parts mixed into it (:mod:`.reading`, :mod:`.analysis`, :mod:`.edits`, :mod:`.voices`): it holds the folder, the user who makes
the edits and the one SQLite connection a process shares between its threads under a lock,
and gives them one transaction per public write (:meth:`WorkspaceConnection._tx`), reads
(:meth:`~WorkspaceConnection._rows`, :meth:`~WorkspaceConnection._one`) and the edit log
(:meth:`~WorkspaceConnection._log`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from esergui.lesson import dumps, now_iso
from esergui.workspace.guard import failure

DB_NAME = "workspace.sqlite"


def inserted_id(cur: sqlite3.Cursor) -> int:
    """The id of the row an ``INSERT`` just wrote through ``cur``."""
    rowid = cur.lastrowid
    if rowid is None:  # sqlite3 sets it after every INSERT; None only for a cursor that wrote nothing
        raise TypeError("no row was inserted")
    return int(rowid)


class WorkspaceConnection:
    """The folder, the user and the shared connection of an open workspace."""

    def __init__(self, folder: Path, con: sqlite3.Connection, user: str) -> None:
        self.folder = folder
        self.user = user
        self._con = con
        self._lock = threading.RLock()

    @property
    def db_path(self) -> Path:
        return self.folder / DB_NAME

    @property
    def recordings_dir(self) -> Path:
        return self.folder / "recordings"

    @property
    def cache_dir(self) -> Path:
        return self.folder / "cache"

    @property
    def enrolment_dir(self) -> Path:
        return self.folder / "enrolment"

    @property
    def schema_version(self) -> int:
        return int(self._one("SELECT value FROM meta WHERE key = 'schema_version'")[0])

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction (nested calls join the outer one)."""
        with self._lock:
            if self._con.in_transaction:
                yield self._con
                return
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise failure(self.db_path, exc, "write to") from None
            try:
                yield self._con
                self._con.execute("COMMIT")
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, (sqlite3.Error, OSError)):
                    raise failure(self.db_path, exc, "save to") from None
                raise

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already (it does on a full disk)."""
        if self._con.in_transaction:
            try:
                self._con.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._con.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise failure(self.db_path, exc, "read") from None

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            try:
                return self._con.execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                raise failure(self.db_path, exc, "read") from None

    def _mark_edited(self, con: sqlite3.Connection, lesson_id: int) -> None:
        """A person changed the lesson (not while a run is storing its analysis)."""
        con.execute("UPDATE lessons SET status = 'edited' WHERE id = ? AND status != 'analysing'", (lesson_id,))

    def _log(self, lesson_id: int, action: str, ids: Iterable[int], before: Any, after: Any) -> None:
        self._con.execute(
            "INSERT INTO edits (lesson_id, at, user, action, utterance_ids, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (lesson_id, now_iso(), self.user, action, dumps(sorted(ids)), dumps(before), dumps(after)),
        )
