"""Glue between the workspace store and the views: workspace records -> :class:`LessonData`,
lesson ids -> summary rows. Qt-free."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from esergui.audio.locked import LockedSource
from esergui.lesson import Lesson, Utterance
from esergui.review.lessondata import LessonData
from esergui.summary import emotion_labels, lesson_duration

if TYPE_CHECKING:
    from esergui.workspace import Workspace


def _row(u: Utterance, index: dict[str, int], names: dict[str, str]) -> tuple[int, float, str, str, bool]:
    """The view columns of one record: label index (-1: none), confidence (the model's top
    probability, NaN where a person set the emotion or there is none), speaker name, role,
    annotated."""
    label = index.get(u.final_emotion, -1) if u.final_emotion else -1
    conf = math.nan if (u.human_emotion or u.confidence is None) else float(u.confidence)
    speaker = names.get(u.final_speaker or "", u.final_speaker or "")
    return label, conf, speaker, u.final_role or "", u.has_human_edit


def lesson_data_from_records(
    lesson: Lesson,
    utterances: Sequence[Utterance],
    labels: Sequence[str],
    speaker_names: dict[str, str] | None = None,
    source: LockedSource | None = None,
) -> LessonData:
    """Columns for the views from a lesson's records (final = human where set, else model).

    ``confidence`` is the model's top probability, NaN where a person set the emotion (the
    model's confidence does not describe a human label) or where there is none."""
    utts = [u for u in utterances if not u.deleted]
    all_labels = emotion_labels(utts, labels)
    index = {name: k for k, name in enumerate(all_labels)}
    names = speaker_names or {}
    n = len(utts)
    probs = np.zeros((n, len(all_labels)), np.float32)
    have_probs = False
    for i, u in enumerate(utts):
        for name, p in (u.probabilities or {}).items():
            k = index.get(name)
            if k is not None:
                probs[i, k] = p
                have_probs = True
    cols = list(zip(*(_row(u, index, names) for u in utts))) or [()] * 5
    duration = lesson_duration(lesson.duration_s, utts)
    if source is not None:
        duration = max(duration, source.duration_s)
    data = LessonData.from_columns(
        lesson.name,
        duration,
        all_labels,
        start=[u.start_s for u in utts],
        end=[u.end_s for u in utts],
        label=cols[0],
        confidence=cols[1],
        speaker=cols[2],
        role=cols[3],
        annotated=cols[4],
        ids=[u.id if u.id is not None else -(i + 1) for i, u in enumerate(utts)],
        probs=probs if have_probs else None,
        lesson_id=lesson.id,
        source=source,
    )
    order = np.argsort([u.start_s for u in utts], kind="stable")
    data.extra["records"] = [utts[i] for i in order]
    return data


def relabelled(
    data: LessonData,
    records: Sequence[Utterance],
    speaker_names: dict[str, str] | None = None,
) -> tuple[LessonData, np.ndarray] | None:
    """``data`` with the rows of ``records`` (utterances it shows, same ids and times, new
    labels, roles, speakers or review marks) replaced, and those rows (sorted), without
    re-reading the lesson. None when that is not possible — a record not shown, deleted or
    moved, or an emotion outside ``data.labels`` — and the caller reloads the lesson.

    Columns are copied, so views holding the old ``data`` are not changed under them."""
    recs = list(data.extra.get("records", []))
    if len(recs) != len(data) or not records:
        return None
    index = {name: k for k, name in enumerate(data.labels)}
    names = speaker_names or {}
    label, conf = data.label.copy(), data.confidence.copy()
    speaker, role, annotated = data.speaker.copy(), data.role.copy(), data.annotated.copy()
    rows = []
    for u in records:
        row = data.row_of_id(int(u.id)) if u.id is not None else -1
        if row < 0 or u.deleted or (u.start_s, u.end_s) != (data.start[row], data.end[row]):
            return None
        if u.final_emotion and u.final_emotion not in index:
            return None
        label[row], conf[row], speaker[row], role[row], annotated[row] = _row(u, index, names)
        recs[row] = u
        rows.append(row)
    out = dataclasses.replace(
        data,
        label=label,
        confidence=conf,
        speaker=speaker,
        role=role,
        annotated=annotated,
        extra={**data.extra, "records": recs},
    )
    return out, np.unique(np.asarray(rows, dtype=np.int64))


def load_lesson_data(ws: Workspace, lesson_id: int, source: LockedSource | None = None) -> LessonData:
    """Read one lesson from a :class:`esergui.workspace.Workspace` into :class:`LessonData`."""
    lesson = ws.lesson(lesson_id)
    names = {s.label: s.name for s in ws.speakers(lesson_id)}
    return lesson_data_from_records(lesson, ws.utterances(lesson_id), ws.labels(lesson_id), names, source)


def summary_rows(ws: Workspace, lesson_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Each lesson's summary row (:func:`esergui.formats.tables.summary_row`: the figures plus the
    model, device and skipped stages of its latest analysis), with the same labels and duration
    as :func:`esergui.formats.exporting.export_workspace`'s ``lessons_summary.csv``."""
    from esergui.formats.tables import summary_row  # pandas: only when a summary is asked for

    rows = []
    for lesson_id in lesson_ids:
        lesson = ws.lesson(lesson_id)
        utts = ws.utterances(lesson_id)
        labels = emotion_labels(utts, ws.labels(lesson_id))
        duration = lesson_duration(lesson.duration_s, utts)
        rows.append(summary_row(lesson.name, utts, duration, labels, run=ws.latest_run(lesson_id)))
    return rows
