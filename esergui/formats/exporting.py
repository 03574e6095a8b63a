"""Exporting lessons: one call writes the chosen formats of one lesson or of a workspace.

Formats (:data:`EXPORT_FORMATS`), files named ``<stem>...`` after :func:`output_stem`:

=========== =================================================================================
``csv``      ``<stem>_utterances.csv``, ``<stem>_summary.csv``, ``<stem>_bins.csv`` (and, for
             several lessons, ``lessons_summary.csv``); columns in ``docs/DATA_DICTIONARY.md``
``eaf``      ``<stem>.eaf``: ELAN 3.0 (:mod:`esergui.formats.eaf`)
``textgrid`` ``<stem>.TextGrid``: Praat (:mod:`esergui.formats.textgrid`)
``rttm``     ``<stem>.rttm``: who spoke when (:mod:`esergui.formats.lines`)
``audacity`` ``<stem>_labels.txt``: an Audacity label track (:mod:`esergui.formats.lines`)
``json``     ``<stem>.json``: both layers, for programs (:mod:`esergui.formats.jsonfmt`)
=========== =================================================================================

Everything written is what a user sees: human edits applied (deleted utterances left out),
speakers by display name in ``eaf``/``textgrid``/``rttm``/``audacity``. Nothing is re-analysed.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableSet, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esergui.agreement import Annotated
from esergui.formats import csvout, eaf, jsonfmt, lines, tables, textgrid
from esergui.formats.csvout import CsvOptions
from esergui.formats.files import ExportError
from esergui.formats.names import output_stem
from esergui.formats.tiers import build_tiers
from esergui.lesson import AnalysisRun, Speaker, Utterance
from esergui.summary import SummarySettings, binned, emotion_labels, lesson_duration, summary_frame

if TYPE_CHECKING:
    from esergui.workspace import Workspace

EXPORT_FORMATS = ("csv", "eaf", "textgrid", "rttm", "audacity", "json")
LESSONS_SUMMARY = "lessons_summary.csv"


@dataclass(frozen=True)
class ExportOptions:
    """How files are written: CSV dialect and the tier layout of ``eaf``/``textgrid``."""

    csv: CsvOptions = CsvOptions()
    layout: str = "fields"  # or "speakers": tiers per speaker (esergui.formats.tiers)
    summary: SummarySettings = SummarySettings()


@dataclass
class LessonExport:
    """What one lesson's export wrote (``files`` in order; the CSVs also by name)."""

    lesson: str
    stem: str
    files: list[Path] = field(default_factory=list)
    utterances_csv: Path | None = None
    summary_csv: Path | None = None
    bins_csv: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    clipped: int = 0  # utterances whose start was moved so one tier has no overlap
    dropped: int = 0  # utterances left off a tier (nothing left after clipping)


def check_formats(formats: Iterable[str]) -> list[str]:
    """``formats`` lower-cased, duplicates removed; :class:`ExportError` for an unknown one."""
    out: list[str] = []
    for fmt in formats:
        fmt = fmt.strip().lower()
        if fmt not in EXPORT_FORMATS:
            raise ExportError(f"unknown export format '{fmt}' (use {', '.join(EXPORT_FORMATS)})")
        if fmt not in out:
            out.append(fmt)
    return out


def shown_items(utterances: Sequence[Utterance], speakers: Sequence[Speaker]) -> list[Annotated]:
    """The utterances as shown (human edits applied), speakers by display name."""
    names = {s.label: s.name for s in speakers}
    return [
        replace(a, speaker=names.get(a.speaker or "", a.speaker))
        for a in (Annotated.from_utterance(u) for u in utterances if not u.deleted)
    ]


def export_lesson(
    out_dir: str | Path,
    lesson: str,
    utterances: Sequence[Utterance],
    duration_s: float,
    labels: Sequence[str] = (),
    speakers: Sequence[Speaker] = (),
    formats: Iterable[str] = ("csv",),
    audio_path: str | None = None,
    options: ExportOptions = ExportOptions(),
    stem: str | None = None,
    run: AnalysisRun | None = None,
    taken: MutableSet[str] | None = None,
) -> LessonExport:
    """Write one lesson in ``formats`` to ``out_dir``. The file stem is ``stem`` when given,
    else :func:`output_stem` of the lesson name, unique among ``taken`` (which gets it)."""
    fmts = check_formats(formats)
    out = Path(out_dir)
    taken = set() if taken is None else taken
    stem = stem or output_stem(lesson, taken)
    taken.add(stem)
    result = LessonExport(lesson, stem)
    result.summary = tables.summary_row(lesson, utterances, duration_s, labels, options.summary, run)
    items = shown_items(utterances, speakers)
    tierset = build_tiers(items, options.layout) if {"eaf", "textgrid"} & set(fmts) else None
    if tierset is not None:
        result.clipped, result.dropped = tierset.clipped, tierset.dropped
    for fmt in fmts:
        if fmt == "csv":
            result.utterances_csv = csvout.write_csv(
                tables.utterances_frame(utterances, labels, lesson, speakers),
                out / f"{stem}_utterances.csv",
                options.csv,
            )
            result.summary_csv = csvout.write_csv(
                summary_frame([result.summary]), out / f"{stem}_summary.csv", options.csv
            )
            result.bins_csv = csvout.write_csv(
                binned(utterances, duration_s, labels, lesson=lesson, bin_s=options.summary.bin_s),
                out / f"{stem}_bins.csv",
                options.csv,
            )
            result.files += [result.utterances_csv, result.summary_csv, result.bins_csv]
            continue
        if fmt == "eaf" and tierset is not None:
            result.files.append(eaf.write_eaf(out / f"{stem}.eaf", tierset, audio_path))
        elif fmt == "textgrid" and tierset is not None:
            result.files.append(textgrid.write_textgrid(out / f"{stem}.TextGrid", tierset, duration_s))
        elif fmt == "rttm":
            result.files.append(lines.write_rttm(out / f"{stem}.rttm", items, stem))
        elif fmt == "audacity":
            result.files.append(lines.write_audacity(out / f"{stem}_labels.txt", items))
        elif fmt == "json":
            doc = jsonfmt.lesson_document(lesson, utterances, duration_s, labels, speakers, audio_path, run)
            result.files.append(jsonfmt.write_json(out / f"{stem}.json", doc))
    return result


def write_summaries(rows: Sequence[dict[str, Any]], path: str | Path, options: CsvOptions = CsvOptions()) -> Path:
    """Several lessons' summaries in one CSV, one row per lesson."""
    return csvout.write_csv(summary_frame(rows), path, options)


def export_workspace(
    ws: Workspace,
    lesson_ids: Sequence[int],
    out_dir: str | Path,
    formats: Iterable[str] = ("csv",),
    options: ExportOptions = ExportOptions(),
    taken: MutableSet[str] | None = None,
) -> list[LessonExport]:
    """Export lessons of a :class:`~esergui.workspace.Workspace` as they are stored (no
    re-analysis); with ``csv`` and several lessons also ``lessons_summary.csv``. Stems are
    unique among the lessons and ``taken`` (two lessons of one name keep apart)."""
    fmts = check_formats(formats)
    taken = set() if taken is None else taken
    if len(lesson_ids) > 1 and "csv" in fmts:
        taken.add(Path(LESSONS_SUMMARY).stem)
    results = []
    for lesson_id in lesson_ids:
        lesson = ws.lesson(lesson_id)
        utts = ws.utterances(lesson_id)
        labels = emotion_labels(utts, ws.labels(lesson_id))
        duration = lesson_duration(lesson.duration_s, utts)
        results.append(
            export_lesson(
                out_dir,
                lesson.name,
                utts,
                duration,
                labels,
                ws.speakers(lesson_id),
                fmts,
                str(ws.audio_file(lesson)),
                options,
                run=ws.latest_run(lesson_id),
                taken=taken,
            )
        )
    if len(results) > 1 and "csv" in fmts:
        write_summaries([r.summary for r in results], Path(out_dir) / LESSONS_SUMMARY, options.csv)
    return results
