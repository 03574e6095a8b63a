"""What a report is drawn from: one lesson's records (:class:`ReportLesson`), read from a
workspace or from a fresh analysis, and its summary row from :mod:`esergui.summary`.

Every figure of the report comes from :func:`esergui.summary.lesson_summary` (the same code
as the app's Summary panel and the CSV exports), so a report never disagrees with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esergui.errors import WorkspaceError
from esergui.lesson import AnalysisRun, Lesson, Utterance, stored_id
from esergui.summary import SummarySettings, emotion_labels, lesson_duration, lesson_summary

if TYPE_CHECKING:
    from esergui.workspace import Workspace


@dataclass(frozen=True)
class ReportLesson:
    """One lesson as the report needs it.

    ``utterances``: the lesson's records (deleted ones are left out); ``labels``: the emotion
    labels in the model's order; ``date``: ISO date-time the lesson dates from, described by
    ``date_source`` (``"added to the workspace"``, ``"file modified"``); ``run``: the analysis
    that produced the model layer (model name and version), if known."""

    name: str
    duration_s: float
    utterances: tuple[Utterance, ...]
    labels: tuple[str, ...] = ()
    date: str = ""
    date_source: str = ""
    run: AnalysisRun | None = None
    speaker_names: Mapping[str, str] = field(default_factory=dict)
    settings: SummarySettings = SummarySettings()

    @classmethod
    def from_records(
        cls,
        lesson: Lesson,
        utterances: Sequence[Utterance],
        labels: Sequence[str] = (),
        run: AnalysisRun | None = None,
        speaker_names: Mapping[str, str] | None = None,
        settings: SummarySettings = SummarySettings(),
    ) -> ReportLesson:
        """From a workspace lesson's records (what the app holds for the current lesson)."""
        utts = tuple(u for u in utterances if not u.deleted)
        duration = lesson_duration(lesson.duration_s, utts)
        return cls(
            lesson.name,
            float(duration),
            utts,
            tuple(emotion_labels(utts, labels)),
            lesson.created,
            "added to the workspace",
            run,
            dict(speaker_names or {}),
            settings,
        )

    def summary(self) -> dict[str, Any]:
        """The lesson's :func:`esergui.summary.lesson_summary` row."""
        return lesson_summary(self.utterances, self.duration_s, self.labels, lesson=self.name, settings=self.settings)

    @property
    def model_name(self) -> str | None:
        return self.run.model_name if self.run is not None else None


def from_workspace(ws: Workspace, lesson: str | int) -> ReportLesson:
    """A workspace lesson by id (an int, or a string of digits naming an existing id) or by
    name; a name several lessons share raises :class:`WorkspaceError` listing their ids."""
    lesson_id = find_lesson(ws, lesson)
    record = ws.lesson(lesson_id)
    names = {s.label: s.name for s in ws.speakers(lesson_id)}
    return ReportLesson.from_records(
        record, ws.utterances(lesson_id), ws.labels(lesson_id), ws.latest_run(lesson_id), names
    )


def find_lesson(ws: Workspace, lesson: str | int) -> int:
    """The id of the lesson named (or numbered) ``lesson`` in workspace ``ws``."""
    lessons = ws.lessons()
    text = str(lesson).strip()
    if text.isdigit() and any(les.id == int(text) for les in lessons):
        return int(text)
    same = [les for les in lessons if les.name == text] or [
        les for les in lessons if les.name.casefold() == text.casefold()
    ]
    if len(same) == 1:
        return stored_id(same[0].id)
    if same:
        ids = ", ".join(str(les.id) for les in same)
        raise WorkspaceError(f"{len(same)} lessons are named {text!r} (ids {ids}); give the id instead")
    known = ", ".join(f"{les.name} ({les.id})" for les in lessons[:8]) or "none"
    raise WorkspaceError(f"no lesson {text!r} in {ws.folder}; lessons: {known}")


def from_analysis(result: Any, name: str | None = None) -> ReportLesson:
    """From an :class:`esergui.pipeline.AnalysisResult` (a file analysed without a workspace);
    the date is the audio file's modification time."""
    path = Path(result.audio_path)
    try:
        date = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    except OSError:
        date = ""
    names = {s.label: s.name for s in getattr(result, "speakers", [])}
    utts = tuple(u for u in result.utterances if not u.deleted)
    return ReportLesson(
        name or path.stem,
        float(result.duration_s),
        utts,
        tuple(emotion_labels(utts, result.labels)),
        date,
        "file modified" if date else "",
        result.run,
        names,
    )
