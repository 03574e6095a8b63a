"""Glue between the Qt-free core and the views: workspace records -> :class:`LessonData`,
lesson audio -> a thread-safe source, lesson ids -> summary rows. No Qt here."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from esergui.app.lessondata import SAMPLE_RATE, LessonData, LockedSource
from esergui.lesson import Lesson, Utterance
from esergui.summary import emotion_labels, lesson_summary


def lesson_data_from_records(
    lesson: Lesson, utterances: Sequence[Utterance], labels: Sequence[str], speaker_names: dict[str, str] | None = None,
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
    conf = [
        math.nan if (u.human_emotion or u.confidence is None) else float(u.confidence) for u in utts
    ]
    duration = lesson.duration_s or (max((u.end_s for u in utts), default=0.0))
    if source is not None:
        duration = max(duration, source.duration_s)
    data = LessonData.from_columns(
        lesson.name, duration, all_labels,
        start=[u.start_s for u in utts], end=[u.end_s for u in utts],
        label=[index.get(u.final_emotion, -1) if u.final_emotion else -1 for u in utts],
        confidence=conf,
        speaker=[names.get(u.final_speaker or "", u.final_speaker or "") for u in utts],
        role=[u.final_role or "" for u in utts],
        annotated=[u.has_human_edit for u in utts],
        ids=[u.id if u.id is not None else -(i + 1) for i, u in enumerate(utts)],
        probs=probs if have_probs else None,
        lesson_id=lesson.id, source=source,
    )
    order = np.argsort([u.start_s for u in utts], kind="stable")
    data.extra["records"] = [utts[i] for i in order]
    return data


def load_lesson_data(ws: Any, lesson_id: int, source: LockedSource | None = None) -> LessonData:
    """Read one lesson from a :class:`esergui.workspace.Workspace` into :class:`LessonData`."""
    lesson = ws.lesson(lesson_id)
    names = {s.label: s.name for s in ws.speakers(lesson_id)}
    return lesson_data_from_records(lesson, ws.utterances(lesson_id), ws.labels(lesson_id), names, source)


def summary_rows(ws: Any, lesson_ids: Sequence[int]) -> list[dict[str, Any]]:
    """:func:`esergui.summary.lesson_summary` of each lesson (one CSV row per lesson), with the
    same labels and duration that ``esergui.export.export_workspace`` uses."""
    rows = []
    for lesson_id in lesson_ids:
        lesson = ws.lesson(lesson_id)
        utts = ws.utterances(lesson_id)
        labels = emotion_labels(utts, ws.labels(lesson_id))
        duration = lesson.duration_s or max((u.end_s for u in utts), default=0.0)
        rows.append(lesson_summary(utts, duration, labels, lesson=lesson.name))
    return rows


def open_cached_source(cache_wav: Path) -> LockedSource | None:
    """A source over an existing 16 kHz mono decode cache (:class:`esergui.audio.WavAudio`),
    or None when the lesson is not decoded yet."""
    from esergui.audio import WavAudio
    from esergui.errors import AudioError

    if not Path(cache_wav).is_file():
        return None
    try:
        wav = WavAudio(cache_wav)
    except AudioError:
        return None
    if wav.sample_rate != SAMPLE_RATE or wav.n_samples <= 0:
        wav.close()
        return None
    return LockedSource(wav, wav.n_samples, SAMPLE_RATE)
