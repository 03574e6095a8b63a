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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from esergui.batch.files import write_csv
from esergui.batch.plan import Failure, LessonTask, read_done

if TYPE_CHECKING:
    from esergui.workspace import Workspace

SUMMARIES_CSV = "all_summaries.csv"
UTTERANCES_PARQUET = "all_utterances.parquet"
FAILURES_CSV = "failures.csv"


def _metadata(task: LessonTask, taken: set[str]) -> dict[str, str]:
    """Manifest metadata; a column whose name a table already uses gets a ``meta_`` prefix."""
    return {(f"meta_{k}" if k in taken else k): v for k, v in task.metadata.items()}


def _front(frame: pd.DataFrame, first: Sequence[str]) -> pd.DataFrame:
    order = [c for c in first if c in frame.columns]
    return frame[order + [c for c in frame.columns if c not in order]]


def _complete(lessons: Sequence[LessonTask]) -> list[tuple[LessonTask, dict[str, Any]]]:
    """The lessons whose folders are complete for their key, with their ``done.json``."""
    found = []
    for task in lessons:
        done = read_done(task.folder)
        if done is not None and done.get("key") == task.key:
            found.append((task, done))
    return found


def summaries_table(lessons: Sequence[LessonTask]) -> pd.DataFrame:
    """One row per complete lesson: ``lesson``, metadata, then the summary row."""
    rows: list[dict[str, Any]] = []
    meta_cols: list[str] = []
    for task, done in _complete(lessons):
        summary = dict(done["summary"])
        meta = _metadata(task, set(summary))
        meta_cols += [k for k in meta if k not in meta_cols]
        rows.append({**summary, **meta, "lesson": task.name})
    return _front(pd.DataFrame(rows), ["lesson", *meta_cols])


def write_utterances(path: str | Path, lessons: Sequence[LessonTask]) -> Path:
    """Every complete lesson's utterance rows in one Parquet file, streamed lesson by lesson
    (memory stays at one lesson however long the archive). Columns: ``lesson``, the metadata
    (text), then the utterance columns, unified across lessons."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []
    meta_cols: list[str] = []
    for task, _done in _complete(lessons):
        file = Path(task.folder) / "utterances.parquet"
        schema = pq.read_schema(file)
        meta = _metadata(task, set(schema.names))
        meta_cols += [k for k in meta if k not in meta_cols]
        parts.append((file, task.name, meta, schema))
    base = pa.unify_schemas([s for *_, s in parts], promote_options="permissive") if parts else pa.schema([])
    front = [pa.field("lesson", pa.string()), *(pa.field(c, pa.string()) for c in meta_cols)]
    schema = pa.schema(front + [f for f in base if f.name not in {"lesson", *meta_cols}])

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, schema) as writer:
            for file, name, meta, _ in parts:
                table = pq.read_table(file)
                n = table.num_rows
                given = {
                    "lesson": pa.array([name] * n, pa.string()),
                    **{k: pa.array([v] * n, pa.string()) for k, v in meta.items()},
                }
                arrays = [
                    given[f.name]
                    if f.name in given
                    else table.column(f.name).cast(f.type)
                    if f.name in table.column_names
                    else pa.nulls(n, f.type)
                    for f in schema
                ]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))

    from esergui.formats.files import write_atomic

    return write_atomic(path, write)


def write_combined(out_dir: str | Path, lessons: Sequence[LessonTask], failures: Sequence[Failure]) -> dict[str, Path]:
    """Write the combined tables and ``failures.csv`` (always, so a stale one never lingers)."""
    out = Path(out_dir)
    return {
        "summaries": write_csv(summaries_table(lessons), out / SUMMARIES_CSV),
        "utterances": write_utterances(out / UTTERANCES_PARQUET, lessons),
        "failures": write_csv(
            pd.DataFrame([f.__dict__ for f in failures], columns=["path", "reason"]), out / FAILURES_CSV
        ),
    }


def store_in_workspace(ws: Workspace, task: LessonTask) -> int:
    """Add a finished lesson to a workspace and store its analysis (keeping any human edits
    already there, as re-analysis always does). Returns the workspace lesson id."""
    from esergui.lesson import AnalysisRun, Speaker, Utterance, stored_id

    data = json.loads((Path(task.folder) / "analysis.json").read_text(encoding="utf-8"))
    run_fields = {k: v for k, v in data["run"].items() if k not in ("id", "lesson_id")}
    run = AnalysisRun(**{**run_fields, "labels": tuple(run_fields.get("labels", ()))})
    utts = [
        Utterance(**{**u, "codes": tuple(u.get("codes", ())), "id": None, "lesson_id": None, "run_id": None})
        for u in data["utterances"]
    ]
    speakers = [Speaker(**{**s, "id": None, "lesson_id": None}) for s in data["speakers"]]
    lesson = ws.add_lesson(task.audio_path, name=task.name)
    lesson_id = stored_id(lesson.id)
    ws.store_analysis(lesson_id, run, utts, speakers, duration_s=data["duration_s"])
    return lesson_id
