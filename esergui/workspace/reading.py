"""Reading a workspace's records (the base of :class:`esergui.workspace.Workspace`).

The SQL of each record and the conversion of its rows into the records of
:mod:`esergui.lesson`: lessons, utterances (model and human layers joined), speakers, the edit
log and analysis runs. A damaged cell raises :class:`~esergui.workspace.guard.DamagedData`,
which the ``reporting_*`` decorators turn into one :class:`WorkspaceError` line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from esergui.errors import WorkspaceError
from esergui.lesson import AnalysisRun, Edit, Lesson, LessonStatus, Speaker, Utterance, stored_id
from esergui.workspace.connection import WorkspaceConnection
from esergui.workspace.guard import DamagedData, json_cell, reporting_lesson, reporting_workspace

__all__ = ["LESSON_COLUMNS", "Disagreement", "ReadingMixin", "lesson_from_row", "utterance_from_row"]

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


def utterance_from_row(row: Sequence[Any]) -> Utterance:
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


LESSON_COLUMNS = (
    "id, name, audio_path, audio_size, audio_quick_hash, audio_sha256, duration_s, created, status, teacher_voice_id"
)


def lesson_from_row(row: Sequence[Any]) -> Lesson:
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


class ReadingMixin(WorkspaceConnection):
    """Reads of lessons, utterances, speakers, edits and runs."""

    # ------------------------------------------------------------------ lessons
    @reporting_lesson
    def lesson(self, lesson_id: int) -> Lesson:
        row = self._one(f"SELECT {LESSON_COLUMNS} FROM lessons WHERE id = ?", (lesson_id,))
        if row is None:
            raise WorkspaceError(f"no lesson with id {lesson_id} in {self.folder}")
        return lesson_from_row(row)

    @reporting_workspace
    def lessons(self) -> list[Lesson]:
        return [lesson_from_row(r) for r in self._rows(f"SELECT {LESSON_COLUMNS} FROM lessons ORDER BY created, id")]

    @reporting_workspace
    def lessons_with_hash(self, sha256: str) -> list[Lesson]:
        return [
            lesson_from_row(r)
            for r in self._rows(f"SELECT {LESSON_COLUMNS} FROM lessons WHERE audio_sha256 = ?", (sha256,))
        ]

    # ------------------------------------------------------------------ reading
    @reporting_lesson
    def utterances(self, lesson_id: int, include_deleted: bool = False) -> list[Utterance]:
        """The lesson's utterances in time order (tombstones only with ``include_deleted``)."""
        where = "WHERE u.lesson_id = ?" + ("" if include_deleted else " AND u.deleted = 0")
        return [
            utterance_from_row(r) for r in self._rows(f"{_UTT_SELECT} {where} ORDER BY u.start_s, u.id", (lesson_id,))
        ]

    @reporting_workspace
    def utterance(self, utterance_id: int) -> Utterance:
        row = self._one(f"{_UTT_SELECT} WHERE u.id = ?", (utterance_id,))
        if row is None:
            raise WorkspaceError(f"no utterance with id {utterance_id}")
        return utterance_from_row(row)

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

    # ------------------------------------------------------------------ runs
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
