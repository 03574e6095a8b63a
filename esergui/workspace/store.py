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
Human edits live in :mod:`esergui.workspace.edits`, teacher voices, model rows and settings
in :mod:`esergui.workspace.voices` (both mixed in here).
"""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from esergui.errors import AudioError, WorkspaceError, os_problem
from esergui.lesson import (
    HUMAN,
    MODEL,
    AnalysisRun,
    Edit,
    Lesson,
    LessonStatus,
    Speaker,
    Utterance,
    dumps,
    stored_id,
)
from esergui.workspace import hashing, schema
from esergui.workspace.connection import DB_NAME, inserted_id
from esergui.workspace.edits import EditsMixin
from esergui.workspace.guard import (
    AnalysisLocks,
    DamagedData,
    check_layout,
    clean_name,
    failure,
    json_cell,
    make_subfolders,
    reporting_lesson,
    reporting_workspace,
)
from esergui.workspace.reanalysis import (
    OverlapIndex,
    fresh_label,
    map_speakers,
    refresh_model_layer,
    trim_to_free,
    with_model_layer,
)
from esergui.workspace.voices import VoicesModelsMixin

__all__ = ["DB_NAME", "Disagreement", "StoreReport", "Workspace"]

_UTT_SELECT = """
SELECT u.id, u.lesson_id, u.start_s, u.end_s, s.label, u.role, u.role_confidence, u.emotion,
       u.confidence, u.probabilities, hs.label, u.human_role, u.human_emotion, u.note, u.codes,
       u.reviewed, u.boundary_source, u.edited_by, u.edited_at,
       CASE WHEN fs.role_source = 'human' OR u.human_speaker_id IS NOT NULL THEN fs.role END,
       u.deleted, u.run_id
FROM utterances u
LEFT JOIN speakers s ON s.id = u.speaker_id
LEFT JOIN speakers hs ON hs.id = u.human_speaker_id
LEFT JOIN speakers fs ON fs.id = COALESCE(u.human_speaker_id, u.speaker_id)
"""


def _utterance(row: Sequence[Any]) -> Utterance:
    where = f"utterance {row[0]}"
    probabilities = json_cell(row[9], f"{where}: the emotion probabilities")
    codes = json_cell(row[14], f"{where}: the codes")
    if not isinstance(probabilities, dict) or not isinstance(codes, list):
        raise DamagedData(f"{where}: the probabilities or codes have the wrong shape")
    return Utterance(
        id=row[0],
        lesson_id=row[1],
        start_s=row[2],
        end_s=row[3],
        speaker=row[4],
        role=row[5],
        role_confidence=row[6],
        emotion=row[7],
        confidence=row[8],
        probabilities=probabilities,
        human_speaker=row[10],
        human_role=row[11],
        human_emotion=row[12],
        note=row[13],
        codes=tuple(codes),
        reviewed=bool(row[15]),
        boundary_source=row[16],
        edited_by=row[17],
        edited_at=row[18],
        speaker_role=row[19],
        deleted=bool(row[20]),
        run_id=row[21],
    )


_LESSON_COLS = (
    "id, name, audio_path, audio_size, audio_quick_hash, audio_sha256, duration_s, created, status, teacher_voice_id"
)


def _lesson(row: Sequence[Any]) -> Lesson:
    if row[8] not in {s.value for s in LessonStatus}:
        raise DamagedData(f"lesson {row[0]}: unknown status {str(row[8])[:20]!r}")
    return Lesson(
        id=row[0],
        name=row[1],
        audio_path=row[2],
        audio_size=row[3],
        audio_quick_hash=row[4],
        audio_sha256=row[5],
        duration_s=row[6],
        created=row[7],
        status=LessonStatus(row[8]),
        teacher_voice_id=row[9],
    )


@dataclass(frozen=True)
class Disagreement:
    """Where the current model layer disagrees with a human label (``field``: ``emotion``,
    ``role`` or ``speaker``)."""

    utterance_id: int
    start_s: float
    end_s: float
    field: str
    human: str
    model: str | None


@dataclass
class StoreReport:
    """What :meth:`Workspace.store_analysis` did."""

    run_id: int
    utterances: int  # utterances of the lesson after storing
    replaced: int  # old model-only utterances removed
    kept_human: int  # pinned utterances kept (with human edits or deleted by a person)
    speakers: dict[str, str] = field(default_factory=dict)  # new label -> stored label
    disagreements: list[Disagreement] = field(default_factory=list)


class Workspace(EditsMixin, VoicesModelsMixin):
    """A workspace folder. Open with :meth:`open`; close (or use as a context manager).

    ``user`` names who makes the edits (default: the login name)."""

    def __init__(self, folder: Path, con: sqlite3.Connection, user: str) -> None:
        super().__init__(folder, con, user)
        self._analysing = AnalysisLocks(folder)

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

    def recover_interrupted(self) -> list[int]:
        """Lessons left ``analysing`` by a run that ended without finishing (killed, crashed,
        power cut; no process holds their analysis lock) get back the status their stored
        data says (``edited``, ``analysed`` or ``not analysed``); returns their ids."""
        stale = [
            int(r[0])
            for r in self._rows("SELECT id FROM lessons WHERE status = 'analysing'")
            if not self._analysing.in_progress(int(r[0]))
        ]
        for lesson_id in stale:
            try:
                with self._tx() as con:
                    con.execute(
                        "UPDATE lessons SET status = ? WHERE id = ? AND status = 'analysing'",
                        (self._settled_status(lesson_id).value, lesson_id),
                    )
            except WorkspaceError:
                break  # cannot write now: the lesson stays marked; a re-analysis settles it
        return stale

    def _settled_status(self, lesson_id: int) -> LessonStatus:
        """What a lesson's stored data says its status is, whatever it is marked."""
        if (
            self._one(
                "SELECT 1 FROM edits WHERE lesson_id = ? AND action NOT IN ('relocate', 'rename_lesson') LIMIT 1",
                (lesson_id,),
            )
            is not None
        ):
            return LessonStatus.EDITED
        if self._one("SELECT 1 FROM runs WHERE lesson_id = ? LIMIT 1", (lesson_id,)) is not None:
            return LessonStatus.ANALYSED
        return LessonStatus.NOT_ANALYSED

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
                f"SELECT {_LESSON_COLS} FROM lessons WHERE audio_sha256 = ? ORDER BY id", (fp.sha256,)
            ).fetchone()
            if row is not None:
                lesson = _lesson(row)
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

    @reporting_lesson
    def lesson(self, lesson_id: int) -> Lesson:
        row = self._one(f"SELECT {_LESSON_COLS} FROM lessons WHERE id = ?", (lesson_id,))
        if row is None:
            raise WorkspaceError(f"no lesson with id {lesson_id} in {self.folder}")
        return _lesson(row)

    @reporting_workspace
    def lessons(self) -> list[Lesson]:
        return [_lesson(r) for r in self._rows(f"SELECT {_LESSON_COLS} FROM lessons ORDER BY created, id")]

    @reporting_workspace
    def lessons_with_hash(self, sha256: str) -> list[Lesson]:
        return [_lesson(r) for r in self._rows(f"SELECT {_LESSON_COLS} FROM lessons WHERE audio_sha256 = ?", (sha256,))]

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

    # ------------------------------------------------------------------ reading
    @reporting_lesson
    def utterances(self, lesson_id: int, include_deleted: bool = False) -> list[Utterance]:
        """The lesson's utterances in time order (tombstones only with ``include_deleted``)."""
        where = "WHERE u.lesson_id = ?" + ("" if include_deleted else " AND u.deleted = 0")
        return [_utterance(r) for r in self._rows(f"{_UTT_SELECT} {where} ORDER BY u.start_s, u.id", (lesson_id,))]

    @reporting_workspace
    def utterance(self, utterance_id: int) -> Utterance:
        row = self._one(f"{_UTT_SELECT} WHERE u.id = ?", (utterance_id,))
        if row is None:
            raise WorkspaceError(f"no utterance with id {utterance_id}")
        return _utterance(row)

    @reporting_lesson
    def speakers(self, lesson_id: int) -> list[Speaker]:
        rows = self._rows(
            "SELECT id, lesson_id, label, display_name, role, role_source, human_edited FROM speakers"
            " WHERE lesson_id = ? ORDER BY id",
            (lesson_id,),
        )
        return [
            Speaker(
                id=r[0],
                lesson_id=r[1],
                label=r[2],
                display_name=r[3],
                role=r[4],
                role_source=r[5],
                human_edited=bool(r[6]),
            )
            for r in rows
        ]

    @reporting_lesson
    def edits(self, lesson_id: int) -> list[Edit]:
        rows = self._rows(
            "SELECT id, lesson_id, at, user, action, utterance_ids, before, after FROM edits WHERE lesson_id = ? ORDER BY id",
            (lesson_id,),
        )
        return [
            Edit(
                id=r[0],
                lesson_id=r[1],
                at=r[2],
                user=r[3],
                action=r[4],
                utterance_ids=tuple(json_cell(r[5], f"edit {r[0]}: the utterance ids")),
                before=json_cell(r[6], f"edit {r[0]}: the old values"),
                after=json_cell(r[7], f"edit {r[0]}: the new values"),
            )
            for r in rows
        ]

    @reporting_lesson
    def review_progress(self, lesson_id: int) -> tuple[int, int]:
        """``(reviewed, total)`` utterances of the lesson."""
        row = self._one(
            "SELECT COALESCE(SUM(reviewed), 0), COUNT(*) FROM utterances WHERE lesson_id = ? AND deleted = 0",
            (lesson_id,),
        )
        return int(row[0]), int(row[1])

    @reporting_lesson
    def pinned(self, lesson_id: int) -> list[Utterance]:
        """Utterances that re-analysis keeps as they are: human-edited or deleted by a person."""
        return [u for u in self.utterances(lesson_id, include_deleted=True) if u.has_human_edit]

    @reporting_lesson
    def disagreements(self, lesson_id: int) -> list[Disagreement]:
        """Utterances whose human label differs from the current model layer."""
        out = []
        for u in self.utterances(lesson_id):
            for name, human, model in (
                ("emotion", u.human_emotion, u.emotion),
                ("role", u.human_role, u.role),
                ("speaker", u.human_speaker, u.speaker),
            ):
                if human and model and human != model:
                    out.append(Disagreement(stored_id(u.id), u.start_s, u.end_s, name, human, model))
        return out

    # ------------------------------------------------------------------ analysis results
    def begin_analysis(self, lesson_id: int) -> LessonStatus:
        """Mark the lesson ``analysing``; returns the status to restore on failure/cancel (what
        its stored data says when another run is marked as analysing it already). Until the
        status changes again this process holds the lesson's analysis lock, so a run that dies
        is recognised as interrupted (:meth:`recover_interrupted`)."""
        self._analysing.hold(lesson_id)
        try:
            with self._tx() as con:
                old = self.lesson(lesson_id).status
                con.execute("UPDATE lessons SET status = 'analysing' WHERE id = ?", (lesson_id,))
        except BaseException:
            self._analysing.release(lesson_id)
            raise
        return self._settled_status(lesson_id) if old is LessonStatus.ANALYSING else old

    def store_analysis(
        self,
        lesson_id: int,
        run: AnalysisRun,
        utterances: Sequence[Utterance],
        speakers: Sequence[Speaker] = (),
        duration_s: float | None = None,
    ) -> StoreReport:
        """Store a new analysis of a lesson in one transaction, keeping every human edit
        (the rule in :mod:`esergui.workspace.reanalysis`).

        ``utterances`` carry the model layer; one whose ``id`` is a pinned utterance of this
        lesson refreshes that utterance's model layer exactly (the pipeline analyses pinned
        spans this way); other pinned utterances take the model layer of the new utterance
        overlapping them most. ``speakers`` give roles of the new speaker labels."""
        with self._tx() as con:
            self.lesson(lesson_id)
            pinned = self.pinned(lesson_id)
            pinned_ids = {u.id for u in pinned}
            direct = {u.id: u for u in utterances if u.id in pinned_ids}
            fresh = [replace(u, id=None) for u in utterances if u.id not in pinned_ids]
            index = OverlapIndex((u.start_s, u.end_s, u) for u in fresh)
            refreshed = []
            for p in pinned:
                src = direct.get(p.id)
                if src is not None:
                    refreshed.append(with_model_layer(p, src))
                else:
                    refreshed.append(refresh_model_layer(p, index))
            fresh = trim_to_free(fresh, [(p.start_s, p.end_s) for p in pinned])

            # speakers: map new labels onto existing speakers
            old_speakers = {s.label: s for s in self.speakers(lesson_id)}
            old_spans = [(u.start_s, u.end_s, label) for u in self.utterances(lesson_id) if (label := u.final_speaker)]
            new_items = [u for u in [*fresh, *refreshed] if u.speaker and not u.deleted]
            new_spans = [(u.start_s, u.end_s, u.speaker) for u in new_items if u.speaker is not None]
            sticky = {s.label for s in old_speakers.values() if s.human_edited or s.role_source == HUMAN}
            mapping = map_speakers(old_spans, new_spans, sticky)
            roles = {s.label: s.role for s in speakers}
            new_labels = sorted({label for _start, _end, label in new_spans}, key=str)
            taken = set(mapping.values()) | sticky | {u.human_speaker for u in pinned if u.human_speaker}
            for label in new_labels:
                if label not in mapping:
                    mapping[label] = fresh_label(label, taken)
                    taken.add(mapping[label])

            run_id = self._insert_run(lesson_id, run)
            removed = con.execute(
                f"DELETE FROM utterances WHERE lesson_id = ? AND id NOT IN ({','.join('?' * len(pinned_ids))})",
                (lesson_id, *pinned_ids),
            ).rowcount
            # speakers rows: keep mapped / sticky / human-referenced, add new, drop the rest
            keep = set(mapping.values()) | taken
            for label, sp in old_speakers.items():
                if label not in keep:
                    con.execute("DELETE FROM speakers WHERE id = ?", (sp.id,))
            for new_label, stored in mapping.items():
                role = roles.get(new_label)
                if role is None:
                    role = next((u.role for u in new_items if u.speaker == new_label and u.role), None)
                if stored in old_speakers:
                    con.execute(
                        "UPDATE speakers SET role = ? WHERE id = ? AND role_source = 'model'",
                        (role, old_speakers[stored].id),
                    )
                else:
                    con.execute(
                        "INSERT INTO speakers (lesson_id, label, role) VALUES (?, ?, ?)", (lesson_id, stored, role)
                    )
            ids = self._speaker_ids(lesson_id)

            def speaker_id(label: str | None) -> int | None:
                """The stored speaker row a new utterance's speaker label maps to."""
                stored = mapping.get(label) if label is not None else None
                return ids.get(stored) if stored is not None else None

            for u in refreshed:
                con.execute(
                    "UPDATE utterances SET run_id = ?, speaker_id = ?, role = ?, role_confidence = ?, emotion = ?,"
                    " confidence = ?, probabilities = ? WHERE id = ?",
                    (
                        run_id,
                        speaker_id(u.speaker),
                        u.role,
                        u.role_confidence,
                        u.emotion,
                        u.confidence,
                        dumps(u.probabilities or {}),
                        u.id,
                    ),
                )
            con.executemany(
                "INSERT INTO utterances (lesson_id, run_id, start_s, end_s, speaker_id, role, role_confidence,"
                " emotion, confidence, probabilities) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        lesson_id,
                        run_id,
                        float(u.start_s),
                        float(u.end_s),
                        speaker_id(u.speaker),
                        u.role,
                        u.role_confidence,
                        u.emotion,
                        u.confidence,
                        dumps(u.probabilities or {}),
                    )
                    for u in fresh
                ],
            )
            status = LessonStatus.EDITED if pinned else LessonStatus.ANALYSED
            con.execute("UPDATE lessons SET status = ? WHERE id = ?", (status.value, lesson_id))
            if duration_s is not None:
                con.execute("UPDATE lessons SET duration_s = ? WHERE id = ?", (float(duration_s), lesson_id))
            count = con.execute(
                "SELECT COUNT(*) FROM utterances WHERE lesson_id = ? AND deleted = 0", (lesson_id,)
            ).fetchone()[0]
            report = StoreReport(
                run_id=run_id,
                utterances=int(count),
                replaced=max(0, removed),
                kept_human=len(pinned),
                speakers={k: v for k, v in mapping.items()},
                disagreements=self.disagreements(lesson_id),
            )
        self._analysing.release(lesson_id)
        return report

    def _speaker_ids(self, lesson_id: int) -> dict[str, int]:
        return dict(self._con.execute("SELECT label, id FROM speakers WHERE lesson_id = ?", (lesson_id,)).fetchall())

    def _insert_run(self, lesson_id: int, run: AnalysisRun) -> int:
        cur = self._con.execute(
            "INSERT INTO runs (lesson_id, created, settings, model_name, model_version, labels, device, timings, skipped)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                lesson_id,
                run.created,
                dumps(run.settings),
                run.model_name,
                run.model_version,
                dumps(list(run.labels)),
                run.device,
                dumps(run.timings_s),
                dumps(run.skipped),
            ),
        )
        return inserted_id(cur)

    @reporting_lesson
    def runs(self, lesson_id: int) -> list[AnalysisRun]:
        """The lesson's analysis runs, oldest first."""
        rows = self._rows(
            "SELECT id, lesson_id, created, settings, model_name, model_version, labels, device, timings, skipped"
            " FROM runs WHERE lesson_id = ? ORDER BY id",
            (lesson_id,),
        )
        return [
            AnalysisRun(
                id=r[0],
                lesson_id=r[1],
                created=r[2],
                settings=json_cell(r[3], f"run {r[0]}: the settings"),
                model_name=r[4],
                model_version=r[5],
                labels=tuple(json_cell(r[6], f"run {r[0]}: the labels")),
                device=r[7],
                timings_s=json_cell(r[8], f"run {r[0]}: the timings"),
                skipped=json_cell(r[9], f"run {r[0]}: the skipped stages"),
            )
            for r in rows
        ]

    def latest_run(self, lesson_id: int) -> AnalysisRun | None:
        runs = self.runs(lesson_id)
        return runs[-1] if runs else None

    def labels(self, lesson_id: int) -> tuple[str, ...]:
        """The label list of the model that last analysed the lesson (``()`` if none)."""
        run = self.latest_run(lesson_id)
        return run.labels if run else ()


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


__all__ = ["Workspace", "StoreReport", "Disagreement", "DB_NAME", "MODEL", "HUMAN"]
