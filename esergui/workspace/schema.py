"""The workspace database schema, its migrations, and the checks made before opening it.

``MIGRATIONS[i]`` takes a database from schema version ``i`` to ``i + 1``; version 0 is an
empty file. ``meta`` holds ``app`` (always :data:`APP_ID`) and ``schema_version``. Opening
never writes to a database that fails a check: a file that is not SQLite, a database of
another application, a schema newer than this code knows, missing tables, or a failed
integrity check all raise :class:`~esergui.errors.WorkspaceError`; before a migration the
old file is copied to ``workspace.sqlite.v<old>.bak``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from esergui.errors import WorkspaceError

APP_ID = "eser-studio-workspace"

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE lessons (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    audio_path TEXT NOT NULL,
    audio_size INTEGER NOT NULL,
    audio_quick_hash TEXT NOT NULL,
    audio_sha256 TEXT NOT NULL,
    duration_s REAL,
    created TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'not analysed'
        CHECK (status IN ('not analysed', 'analysing', 'analysed', 'edited'))
);
CREATE INDEX lessons_quick_hash ON lessons(audio_quick_hash);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    lesson_id INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    created TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    model_name TEXT,
    model_version TEXT,
    labels TEXT NOT NULL DEFAULT '[]',
    device TEXT,
    timings TEXT NOT NULL DEFAULT '{}',
    skipped TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE speakers (
    id INTEGER PRIMARY KEY,
    lesson_id INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    role TEXT,
    role_source TEXT NOT NULL DEFAULT 'model' CHECK (role_source IN ('model', 'human')),
    human_edited INTEGER NOT NULL DEFAULT 0,
    UNIQUE (lesson_id, label)
);
CREATE TABLE utterances (
    id INTEGER PRIMARY KEY,
    lesson_id INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    speaker_id INTEGER REFERENCES speakers(id) ON DELETE SET NULL,
    role TEXT,
    role_confidence REAL,
    emotion TEXT,
    confidence REAL,
    probabilities TEXT NOT NULL DEFAULT '{}',
    human_speaker_id INTEGER REFERENCES speakers(id) ON DELETE SET NULL,
    human_role TEXT,
    human_emotion TEXT,
    note TEXT NOT NULL DEFAULT '',
    codes TEXT NOT NULL DEFAULT '[]',
    reviewed INTEGER NOT NULL DEFAULT 0,
    boundary_source TEXT NOT NULL DEFAULT 'model' CHECK (boundary_source IN ('model', 'human')),
    deleted INTEGER NOT NULL DEFAULT 0,
    edited_by TEXT,
    edited_at TEXT,
    CHECK (end_s > start_s AND start_s >= 0)
);
CREATE INDEX utterances_lesson ON utterances(lesson_id, deleted, start_s);
CREATE TABLE edits (
    id INTEGER PRIMARY KEY,
    lesson_id INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    utterance_ids TEXT NOT NULL DEFAULT '[]',
    before TEXT NOT NULL DEFAULT 'null',
    after TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX edits_lesson ON edits(lesson_id, id);
"""

# Version 2: enrolled teacher voices (linked to lessons), the model registry, settings.
_V2 = """
CREATE TABLE teacher_voices (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    audio_file TEXT NOT NULL,
    encoder TEXT NOT NULL,
    embedding BLOB NOT NULL,
    created TEXT NOT NULL
);
ALTER TABLE lessons ADD COLUMN teacher_voice_id INTEGER REFERENCES teacher_voices(id) ON DELETE SET NULL;
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    path TEXT,
    labels TEXT NOT NULL,
    created TEXT NOT NULL,
    figures TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)

#: Tables every database at :data:`SCHEMA_VERSION` must have.
REQUIRED_TABLES = frozenset(
    {"meta", "lessons", "runs", "speakers", "utterances", "edits", "teacher_voices", "models", "settings"}
)


def _fail(path: Path, why: str) -> WorkspaceError:
    why = " ".join(why.replace("*** in database main ***", "").split())  # SQLite's reports span lines
    return WorkspaceError(f"{path}: {why}; it was left untouched")


def inspect(path: Path) -> int:
    """Validate an existing database read-only and return its schema version.

    Raises :class:`WorkspaceError` for anything that is not a sound ESER Studio workspace this
    code can open (including a newer schema version)."""
    try:
        con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _fail(path, f"cannot open the workspace database ({exc})") from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return 0
        if "meta" not in tables:
            raise _fail(path, "not an ESER Studio workspace database (no meta table)")
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("app") != APP_ID:
            raise _fail(path, "not an ESER Studio workspace database (wrong application id)")
        try:
            version = int(meta.get("schema_version", ""))
        except ValueError:
            raise _fail(path, "the schema version is missing or not a number") from None
        if version > SCHEMA_VERSION:
            raise _fail(
                path,
                f"made by a newer ESER Studio (schema version {version}, this version reads up "
                f"to {SCHEMA_VERSION}); update ESER Studio to open it",
            )
        if version < 1:
            raise _fail(path, f"invalid schema version {version}")
        result = con.execute("PRAGMA quick_check").fetchall()
        if result != [("ok",)]:
            detail = "; ".join(str(r[0]) for r in result[:3])
            raise _fail(path, f"the database is damaged ({detail})")
        expected = _tables_at(version)
        missing = expected - tables
        if missing:
            raise _fail(path, f"the database has been tampered with (missing tables: {', '.join(sorted(missing))})")
        if con.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise _fail(path, "the database has been tampered with (broken references between tables)")
        return version
    except sqlite3.DatabaseError as exc:
        if "malformed" in str(exc) or "no such" in str(exc):
            raise _fail(path, f"the database is damaged ({exc})") from None
        raise _fail(path, f"not a valid workspace database ({exc})") from None
    except (UnicodeDecodeError, ValueError, TypeError) as exc:  # a damaged name or value in the schema
        raise _fail(path, f"the database is damaged ({type(exc).__name__}: {str(exc)[:80]})") from None
    finally:
        con.close()


def _tables_at(version: int) -> set[str]:
    con = sqlite3.connect(":memory:")
    try:
        for script in MIGRATIONS[:version]:
            con.executescript(script)
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()


def migrate(con: sqlite3.Connection, path: Path, current: int, target: int = SCHEMA_VERSION) -> None:
    """Apply ``MIGRATIONS[current:target]`` in one transaction (backing the file up first when
    it already holds data). ``con`` must be in autocommit mode (``isolation_level=None``)."""
    if current >= target:
        return
    if current > 0:
        backup = path.with_name(f"{path.name}.v{current}.bak")
        dst = sqlite3.connect(backup)
        try:
            con.backup(dst)
        finally:
            dst.close()
    con.execute("PRAGMA foreign_keys = OFF")  # ALTER TABLE under migration; re-checked below
    try:
        con.execute("BEGIN IMMEDIATE")
        # Another process may have created or migrated the database while we waited for the lock.
        current = _version_in(con)
        if current >= target:
            con.execute("COMMIT")
            return
        for script in MIGRATIONS[current:target]:
            for statement in _statements(script):
                con.execute(statement)
        con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('app', ?)", (APP_ID,))
        con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(target),))
        if con.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise WorkspaceError(f"{path}: migration left broken references; nothing was changed")
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.execute("PRAGMA foreign_keys = ON")


def _version_in(con: sqlite3.Connection) -> int:
    """The schema version of an open database (0: no tables yet)."""
    if con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would commit on its own)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
