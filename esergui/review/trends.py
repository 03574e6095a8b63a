"""Trends across the lessons of a workspace: the per-lesson table that
:func:`esergui.batch.trends.lesson_trends` reads, built from a workspace.

The figures are the summary rows of :func:`esergui.review.adapters.summary_rows` (the same
rows as the app's summary CSV and ``esergui analyze``); to each row this adds

* ``date``: the lesson's date, from its name when the name holds one (``2026-03-14``,
  ``2026_03_14`` or ``20260314``), else the recording file's modification date, else the day
  the lesson was added to the workspace; ``date_source`` says which (``name``, ``file``,
  ``added``);
* ``teacher``: the enrolled teacher voice linked to the lesson, else the speaker with the most
  teacher-role speech (``(none)`` when no utterance has the teacher role);
* ``all``: one group holding every lesson.

Qt-free, so the app runs it in a worker thread and a script can call it too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from esergui.batch.trends import Trends, lesson_trends
from esergui.review.adapters import summary_rows
from esergui.workspace import Workspace

#: Groupings the workspace gives, and how a user reads them.
GROUPINGS = {"teacher": "Teacher", "all": "All lessons"}

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")


def date_in_name(name: str) -> str | None:
    """``YYYY-MM-DD`` when ``name`` holds a valid date, else ``None``."""
    for match in _DATE_IN_NAME.finditer(name):
        try:
            return datetime(int(match[1]), int(match[2]), int(match[3])).strftime("%Y-%m-%d")
        except ValueError:
            continue
    return None


def _lesson_date(ws: Workspace, lesson_id: int) -> tuple[str, str]:
    lesson = ws.lesson(lesson_id)
    named = date_in_name(lesson.name) or date_in_name(Path(lesson.audio_path).name)
    if named:
        return named, "name"
    try:
        mtime = Path(lesson.audio_path).stat().st_mtime
        return datetime.fromtimestamp(mtime).strftime("%Y-%m-%d"), "file"
    except OSError:
        return str(lesson.created)[:10], "added"


def _lesson_teacher(ws: Workspace, lesson_id: int) -> str:
    lesson = ws.lesson(lesson_id)
    if lesson.teacher_voice_id is not None:
        try:
            return ws.teacher_voice(lesson.teacher_voice_id).name
        except Exception:  # noqa: BLE001 (a removed voice: fall back to the speakers)
            pass
    talk: dict[str, float] = defaultdict(float)
    for u in ws.utterances(lesson_id):
        if not u.deleted and u.final_role == "teacher" and u.final_speaker:
            talk[u.final_speaker] += u.duration_s
    return max(talk, key=lambda s: talk[s]) if talk else "(none)"


def workspace_lesson_table(
    ws: Workspace, lesson_ids: Sequence[int], progress: Callable[[float], Any] | None = None
) -> pd.DataFrame:
    """One row per lesson: ``lesson``, ``date``, ``date_source``, ``teacher``, ``all`` and the
    summary figures (see the module doc)."""
    rows = []
    for i, lesson_id in enumerate(lesson_ids):
        (row,) = summary_rows(ws, [lesson_id])
        date, source = _lesson_date(ws, lesson_id)
        meta = {"date": date, "date_source": source, "teacher": _lesson_teacher(ws, lesson_id), "all": "all lessons"}
        rows.append({"lesson": row.get("lesson", ws.lesson(lesson_id).name), **meta, **row})
        if progress is not None:
            progress((i + 1) / max(1, len(lesson_ids)))
    return pd.DataFrame(rows)


def workspace_trends(
    ws: Workspace, lesson_ids: Sequence[int], by: str = "teacher", progress: Callable[[float], Any] | None = None
) -> Trends:
    """:func:`esergui.batch.trends.lesson_trends` of the workspace's lessons, grouped by ``by``."""
    return lesson_trends(workspace_lesson_table(ws, lesson_ids, progress), by=by)
