"""Tables across a batch's lessons, and storing finished lessons in a workspace.

``all_summaries.csv``: one row per analysed lesson: ``lesson``, the manifest metadata
(``teacher``, ``class``, ``date``, ``subject``, ...), then the lesson's summary figures
(:func:`esergui.summary.lesson_summary`), the model, device, audio path and hash, and the
provenance columns. ``all_utterances.parquet``: every lesson's utterance rows with the same
``lesson`` and metadata columns in front. Both are built from the lesson folders' files, so
lessons skipped by ``--resume`` are included exactly like the ones analysed now; metadata
comes from the current inputs (a corrected manifest needs no re-analysis).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from esergui.batch.files import write_csv, write_parquet
from esergui.batch.plan import Failure, LessonTask, read_done

SUMMARIES_CSV = "all_summaries.csv"
UTTERANCES_PARQUET = "all_utterances.parquet"
FAILURES_CSV = "failures.csv"


def _metadata(task: LessonTask, taken: set[str]) -> dict[str, str]:
    """Manifest metadata; a column whose name a table already uses gets a ``meta_`` prefix."""
    return {(f"meta_{k}" if k in taken else k): v for k, v in task.metadata.items()}


def _front(frame: pd.DataFrame, first: Sequence[str]) -> pd.DataFrame:
    order = [c for c in first if c in frame.columns]
    return frame[order + [c for c in frame.columns if c not in order]]


def combined_tables(lessons: Sequence[LessonTask]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summaries, utterances) of the lessons whose folders are complete."""
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    meta_cols: list[str] = []
    for task in lessons:
        done = read_done(task.folder)
        if done is None or done.get("key") != task.key:
            continue
        summary = dict(done["summary"])
        meta = _metadata(task, set(summary))
        meta_cols += [k for k in meta if k not in meta_cols]
        rows.append({**summary, **meta, "lesson": task.name})
        utts = pd.read_parquet(Path(task.folder) / "utterances.parquet")
        frames.append(utts.assign(**_metadata(task, set(utts.columns)), lesson=task.name))
    summaries = _front(pd.DataFrame(rows), ["lesson", *meta_cols])
    non_empty = [f for f in frames if len(f)]
    utterances = pd.concat(non_empty, ignore_index=True) if non_empty else (frames[0] if frames else pd.DataFrame())
    return summaries, _front(utterances, ["lesson", *meta_cols])


def write_combined(out_dir: str | Path, lessons: Sequence[LessonTask], failures: Sequence[Failure]) -> dict[str, Path]:
    """Write the combined tables and ``failures.csv`` (always, so a stale one never lingers)."""
    out = Path(out_dir)
    summaries, utterances = combined_tables(lessons)
    written = {
        "summaries": write_csv(summaries, out / SUMMARIES_CSV),
        "utterances": write_parquet(utterances, out / UTTERANCES_PARQUET),
        "failures": write_csv(pd.DataFrame([f.__dict__ for f in failures], columns=["path", "reason"]), out / FAILURES_CSV),
    }
    return written


def store_in_workspace(ws: Any, task: LessonTask) -> int:
    """Add a finished lesson to a workspace and store its analysis (keeping any human edits
    already there, as re-analysis always does). Returns the workspace lesson id."""
    from esergui.lesson import AnalysisRun, Speaker, Utterance

    data = json.loads((Path(task.folder) / "analysis.json").read_text(encoding="utf-8"))
    run_fields = {k: v for k, v in data["run"].items() if k not in ("id", "lesson_id")}
    run = AnalysisRun(**{**run_fields, "labels": tuple(run_fields.get("labels", ()))})
    utts = [Utterance(**{**u, "codes": tuple(u.get("codes", ())), "id": None, "lesson_id": None, "run_id": None})
            for u in data["utterances"]]
    speakers = [Speaker(**{**s, "id": None, "lesson_id": None}) for s in data["speakers"]]
    lesson = ws.add_lesson(task.audio_path, name=task.name)
    ws.store_analysis(lesson.id, run, utts, speakers, duration_s=data["duration_s"])
    return int(lesson.id)
