"""Exports: utterances CSV, lesson summary CSV (one row per lesson), binned CSV, ELAN .eaf and
Praat TextGrid.

CSV files are UTF-8 with a header, written by pandas, and **spreadsheet-safe**: a text cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (which Excel, LibreOffice
and Google Sheets would run as a formula) is prefixed with ``'``; numbers stay numbers (a
negative number is written as a number, and a text cell that is just a number is left alone).

File names: ``<lesson>_utterances.csv``, ``<lesson>_summary.csv``, ``<lesson>_bins.csv``,
``<lesson>.eaf``, ``<lesson>.TextGrid``, where ``<lesson>`` is the lesson name with anything
but letters, digits, ``.``, ``_`` and ``-`` replaced by ``_``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from esergui.errors import EserError
from esergui.lesson import AnalysisRun, Speaker, Utterance, now_iso
from esergui.summary import SummarySettings, binned, emotion_labels, lesson_summary, summary_frame

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

#: The fixed leading columns of an utterances CSV (then ``p_<label>`` columns, then the rest).
UTTERANCE_COLUMNS = (
    "lesson", "utterance_id", "start_s", "end_s", "duration_s", "speaker", "speaker_name", "role",
    "role_confidence", "emotion", "confidence",
)
TRAILING_COLUMNS = (
    "emotion_source", "role_source", "model_emotion", "model_role", "model_speaker", "note", "codes",
    "reviewed", "edited_by", "edited_at",
)


class ExportError(EserError):
    """An export could not be written (folder not writable, disk full...)."""


def neutralise(value: Any) -> Any:
    """A cell value a spreadsheet will not execute (see the module doc)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and column name) neutralised."""
    out = frame.copy()
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])):
            out[col] = out[col].map(neutralise)  # object and (pandas >= 3) str columns
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def file_stem(name: str) -> str:
    """A lesson name made safe for a file name."""
    stem = re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII).strip("._")
    return stem or "lesson"


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` spreadsheet-safe as UTF-8 CSV (no index). Raises :class:`ExportError`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        safe_frame(frame).to_csv(path, index=False, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def utterances_frame(
    utterances: Sequence[Utterance], labels: Sequence[str] = (), lesson: str = "", speakers: Sequence[Speaker] = ()
) -> pd.DataFrame:
    """One row per utterance (deleted ones left out); columns :data:`UTTERANCE_COLUMNS`, a
    ``p_<label>`` column per label of the model, then :data:`TRAILING_COLUMNS`. ``emotion``,
    ``role`` and ``speaker`` are the final values (human where set); ``model_*`` the model's."""
    names = {s.label: s.name for s in speakers}
    labels = list(labels) or sorted({k for u in utterances for k in u.probabilities})
    rows = []
    for k, u in enumerate(u for u in utterances if not u.deleted):
        row: dict[str, Any] = {
            "lesson": lesson, "utterance_id": u.id if u.id is not None else k + 1,
            "start_s": _r(u.start_s, 3), "end_s": _r(u.end_s, 3), "duration_s": _r(u.duration_s, 3),
            "speaker": u.final_speaker, "speaker_name": names.get(u.final_speaker or "", u.final_speaker),
            "role": u.final_role, "role_confidence": _r(u.role_confidence, 4),
            "emotion": u.final_emotion, "confidence": _r(u.confidence, 4),
        }
        for label in labels:
            p = u.probabilities.get(label)
            row[f"p_{label}"] = _r(p, 4)
        row.update({
            "emotion_source": u.emotion_source, "role_source": u.role_source, "model_emotion": u.emotion,
            "model_role": u.role, "model_speaker": u.speaker, "note": u.note, "codes": ";".join(u.codes),
            "reviewed": int(u.reviewed), "edited_by": u.edited_by, "edited_at": u.edited_at,
        })
        rows.append(row)
    columns = [*UTTERANCE_COLUMNS, *(f"p_{x}" for x in labels), *TRAILING_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


@dataclass
class LessonExport:
    """What one lesson's export wrote."""

    utterances_csv: Path
    summary_csv: Path
    bins_csv: Path
    extra: list[Path] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def export_lesson(
    out_dir: str | Path,
    lesson: str,
    utterances: Sequence[Utterance],
    duration_s: float,
    labels: Sequence[str] = (),
    speakers: Sequence[Speaker] = (),
    formats: Iterable[str] = (),
    audio_path: str | None = None,
    settings: SummarySettings = SummarySettings(),
    stem: str | None = None,
    run: AnalysisRun | None = None,
) -> LessonExport:
    """Write a lesson's utterances, summary and binned CSVs to ``out_dir`` (plus ``"eaf"``
    and/or ``"textgrid"`` in ``formats``); files are named after ``stem`` (default: the
    lesson name made file-safe). ``run`` (the analysis that made the model layer) adds
    ``model``, ``model_version``, ``device`` and ``stages_skipped`` to the summary row."""
    out = Path(out_dir)
    stem = file_stem(stem or lesson)
    summary = lesson_summary(utterances, duration_s, labels, lesson=lesson, settings=settings)
    if run is not None:
        summary.update({"model": run.model_name, "model_version": run.model_version, "device": run.device,
                        "stages_skipped": ";".join(run.skipped)})
    result = LessonExport(
        utterances_csv=write_csv(utterances_frame(utterances, labels, lesson, speakers), out / f"{stem}_utterances.csv"),
        summary_csv=write_csv(summary_frame([summary]), out / f"{stem}_summary.csv"),
        bins_csv=write_csv(binned(utterances, duration_s, labels, lesson=lesson, bin_s=settings.bin_s), out / f"{stem}_bins.csv"),
        summary=summary,
    )
    for fmt in formats:
        fmt = fmt.lower()
        if fmt == "eaf":
            result.extra.append(write_eaf(out / f"{stem}.eaf", utterances, duration_s, audio_path, speakers))
        elif fmt == "textgrid":
            result.extra.append(write_textgrid(out / f"{stem}.TextGrid", utterances, duration_s))
        else:
            raise ExportError(f"unknown export format '{fmt}' (use eaf or textgrid)")
    return result


def write_summaries(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Several lessons' summaries in one CSV, one row per lesson."""
    return write_csv(summary_frame(rows), path)


# ---------------------------------------------------------------------------- annotation tools
def _tiers(utterances: Sequence[Utterance]) -> dict[str, list[Utterance]]:
    """Utterances per tier (speaker, else role, else ``speech``), time-ordered, overlaps clipped."""
    tiers: dict[str, list[Utterance]] = {}
    for u in sorted((u for u in utterances if not u.deleted), key=lambda u: u.start_s):
        tiers.setdefault(u.final_speaker or u.final_role or "speech", []).append(u)
    return tiers


def _tier_text(u: Utterance) -> str:
    return u.final_emotion or ""


def write_textgrid(path: str | Path, utterances: Sequence[Utterance], duration_s: float) -> Path:
    """A Praat TextGrid: one interval tier per speaker, intervals labelled with the emotion
    (gaps are empty intervals, as Praat requires)."""
    end = max([duration_s, *(u.end_s for u in utterances)])
    tiers = _tiers(utterances)
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", f"xmax = {end:.6f}",
             "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for i, (name, utts) in enumerate(tiers.items(), 1):
        intervals: list[tuple[float, float, str]] = []
        cursor = 0.0
        for u in utts:
            a = max(u.start_s, cursor)
            if u.end_s <= a:
                continue
            if a > cursor:
                intervals.append((cursor, a, ""))
            intervals.append((a, u.end_s, _tier_text(u)))
            cursor = u.end_s
        if cursor < end:
            intervals.append((cursor, end, ""))
        lines += [f"    item [{i}]:", '        class = "IntervalTier"', f'        name = "{_praat(name)}"',
                  "        xmin = 0", f"        xmax = {end:.6f}", f"        intervals: size = {len(intervals)}"]
        for k, (a, b, text) in enumerate(intervals, 1):
            lines += [f"        intervals [{k}]:", f"            xmin = {a:.6f}", f"            xmax = {b:.6f}",
                      f'            text = "{_praat(text)}"']
    return _write_text(Path(path), "\n".join(lines) + "\n")


def _praat(text: str) -> str:
    return text.replace('"', '""')


def write_eaf(
    path: str | Path, utterances: Sequence[Utterance], duration_s: float, audio_path: str | None = None,
    speakers: Sequence[Speaker] = (),
) -> Path:
    """An ELAN 3.0 .eaf: one tier per speaker (participant = display name), annotations
    labelled with the emotion; the audio is linked as the media file."""
    names = {s.label: s.name for s in speakers}
    root = ET.Element("ANNOTATION_DOCUMENT", {
        "AUTHOR": "ESER Studio", "DATE": now_iso(), "FORMAT": "3.0", "VERSION": "3.0",
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
    })
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    if audio_path:
        p = Path(audio_path).absolute()
        ET.SubElement(header, "MEDIA_DESCRIPTOR", {"MEDIA_URL": p.as_uri(), "MIME_TYPE": "audio/x-wav" if p.suffix.lower() == ".wav" else "audio/*"})
    order = ET.SubElement(root, "TIME_ORDER")
    tiers = _tiers(utterances)
    slot = 0
    tier_elems = []
    for name, utts in tiers.items():
        tier = ET.Element("TIER", {"TIER_ID": name, "PARTICIPANT": names.get(name, name), "LINGUISTIC_TYPE_REF": "emotion"})
        for u in utts:
            ids = []
            for t in (u.start_s, u.end_s):
                slot += 1
                ET.SubElement(order, "TIME_SLOT", {"TIME_SLOT_ID": f"ts{slot}", "TIME_VALUE": str(int(round(t * 1000)))})
                ids.append(f"ts{slot}")
            ann = ET.SubElement(ET.SubElement(tier, "ANNOTATION"), "ALIGNABLE_ANNOTATION", {
                "ANNOTATION_ID": f"a{slot // 2}", "TIME_SLOT_REF1": ids[0], "TIME_SLOT_REF2": ids[1]})
            ET.SubElement(ann, "ANNOTATION_VALUE").text = _tier_text(u)
        tier_elems.append(tier)
    root.extend(tier_elems)
    ET.SubElement(root, "LINGUISTIC_TYPE", {"LINGUISTIC_TYPE_ID": "emotion", "TIME_ALIGNABLE": "true", "GRAPHIC_REFERENCES": "false"})
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return _write_text(Path(path), text)


def _write_text(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def export_workspace(ws: Any, lesson_ids: Sequence[int], out_dir: str | Path, formats: Iterable[str] = ()) -> list[LessonExport]:
    """Export lessons of a :class:`~esergui.workspace.Workspace` (utterances/summary/bins per
    lesson) and, for several lessons, ``lessons_summary.csv`` with one row per lesson."""
    formats = list(formats)
    results = []
    stems: set[str] = set()
    for lesson_id in lesson_ids:
        lesson = ws.lesson(lesson_id)
        stem = file_stem(lesson.name)
        if stem in stems:  # two lessons of the same name: keep both files apart
            stem = f"{stem}_{lesson_id}"
        stems.add(stem)
        utts = ws.utterances(lesson_id)
        labels = emotion_labels(utts, ws.labels(lesson_id))
        duration = lesson.duration_s or max((u.end_s for u in utts), default=0.0)
        results.append(export_lesson(out_dir, lesson.name, utts, duration, labels, ws.speakers(lesson_id), formats,
                                     str(ws.audio_file(lesson)), stem=stem, run=ws.latest_run(lesson_id)))
    if len(results) > 1:
        write_summaries([r.summary for r in results], Path(out_dir) / "lessons_summary.csv")
    return results
