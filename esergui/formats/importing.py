"""Importing annotations: ELAN, Praat, RTTM, Audacity labels and this project's CSV/JSON become
the human annotation layer of a workspace lesson.

Reading (:func:`read_annotations`) gives one annotator's utterances
(:class:`esergui.agreement.Annotated`), the same records the agreement dialog compares, so
every format here can also be scored against a lesson with Cohen's kappa
(:func:`esergui.agreement.read_other`).

Applying (:func:`apply_to_lesson`) pairs each imported utterance with the lesson's utterance
it overlaps (:func:`esergui.agreement.align`, at least half of the shorter one) and sets the
human layer there: emotion, role, speaker (matched to the lesson's speakers by label or
display name; a new name becomes a new speaker), note and codes. An imported utterance that
pairs with none becomes a new utterance (boundaries from the file). Boundaries of paired
utterances are kept. A human label the lesson already has and the file contradicts is kept
unless ``overwrite`` (counted in :attr:`ImportReport.kept`). All of it is one edit per call
in the lesson's edit log (``import``), by the workspace's user: the Model vs Human panel then
lists where the model disagrees, and the retraining wizard's workspace source trains on the
imported emotion labels.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esergui.agreement import (
    AgreementError,
    AgreementReport,
    Annotated,
    align,
    compare,
    read_csv,
)
from esergui.errors import EserError, os_problem
from esergui.formats import eaf, jsonfmt, lines, textgrid
from esergui.formats.tiers import RawTier, assemble, tier_fields
from esergui.lesson import stored_id

if TYPE_CHECKING:
    from esergui.workspace import Workspace

IMPORT_SUFFIXES = {
    ".eaf": "eaf",
    ".textgrid": "textgrid",
    ".rttm": "rttm",
    ".txt": "audacity",
    ".csv": "csv",
    ".json": "json",
}


class AnnotationImportError(EserError):
    """An annotation file cannot be read or applied (the message names the file and where)."""


def format_of(path: str | Path) -> str:
    """The import format of ``path`` by its suffix; :class:`AnnotationImportError` when unknown."""
    fmt = IMPORT_SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(IMPORT_SUFFIXES))
        raise AnnotationImportError(f"{path}: unknown annotation format '{Path(path).suffix}' (use {known})")
    return fmt


def read_tiers(path: str | Path) -> list[RawTier]:
    """The tiers of an ``.eaf`` or TextGrid file (to choose from)."""
    path = Path(path)
    fmt = format_of(path)
    try:
        if fmt == "eaf":
            return eaf.read_eaf(path)
        if fmt == "textgrid":
            return textgrid.read_textgrid(path)
    except OSError as exc:
        raise AnnotationImportError(f"{path}: cannot read ({os_problem(exc)})") from None
    except ValueError as exc:
        raise AnnotationImportError(f"{path}: {exc}") from None
    raise AnnotationImportError(f"{path}: a {fmt} file has no tiers to choose")


def read_annotations(
    path: str | Path, tiers: Mapping[str, str] | None = None, lesson: str | None = None, file_id: str | None = None
) -> list[Annotated]:
    """One annotator's utterances from ``path`` (format by suffix). ``tiers`` (tier name ->
    field) chooses tiers of an ``.eaf``/TextGrid (default: by name, see
    :mod:`esergui.formats.tiers`); ``lesson`` picks a lesson of a several-lesson CSV;
    ``file_id`` a recording of a several-recording RTTM."""
    path = Path(path)
    fmt = format_of(path)
    if not path.is_file():
        raise AnnotationImportError(f"{path}: no such file")
    try:
        if fmt in ("eaf", "textgrid"):
            raw = read_tiers(path)
            chosen = tier_fields(raw, tiers)
            missing = sorted(set(tiers or ()) - {t.name for t in raw})
            if missing:
                raise AnnotationImportError(
                    f"{path}: no tier named {', '.join(repr(m) for m in missing)} "
                    f"(tiers: {', '.join(t.name for t in raw)})"
                )
            if not chosen:
                raise AnnotationImportError(
                    f"{path}: no tier to import (tiers: {', '.join(t.name for t in raw) or 'none'})"
                )
            items = assemble(raw, chosen)
        elif fmt == "rttm":
            items = lines.read_rttm(path, file_id)
        elif fmt == "audacity":
            items = lines.read_audacity(path)
        elif fmt == "json":
            items = jsonfmt.read_json(path)
        else:
            items = read_csv(path, lesson)
    except AgreementError as exc:
        raise AnnotationImportError(str(exc)) from None
    except OSError as exc:
        raise AnnotationImportError(f"{path}: cannot read ({os_problem(exc)})") from None
    except ValueError as exc:
        raise AnnotationImportError(f"{path}: {exc}") from None
    if not items:
        raise AnnotationImportError(f"{path}: no annotations found")
    return items


@dataclass
class ImportReport:
    """What :func:`apply_to_lesson` did (counts of utterances)."""

    imported: int = 0  # utterances read from the file
    paired: int = 0  # paired with an utterance of the lesson
    created: int = 0  # added as new utterances
    skipped: int = 0  # outside the lesson's audio
    labels_set: dict[str, int] = field(default_factory=dict)  # field -> utterances changed
    kept: int = 0  # existing human labels the file contradicts, kept (no overwrite)
    new_speakers: list[str] = field(default_factory=list)
    agreement: AgreementReport | None = None  # model layer vs the file, before import

    def lines(self) -> list[str]:
        set_ = ", ".join(f"{n} {k}" for k, n in sorted(self.labels_set.items()) if n) or "nothing"
        out = [
            (
                f"{self.imported} annotations: {self.paired} paired with utterances, {self.created} added, "
                f"{self.skipped} outside the audio; set {set_}"
            )
        ]
        if self.kept:
            out.append(
                f"{self.kept} human labels already in the lesson differ from the file and were kept (use overwrite)"
            )
        if self.new_speakers:
            out.append(f"new speakers: {', '.join(self.new_speakers)}")
        if self.agreement is not None:
            out += [f"model vs file: {line}" for line in self.agreement.summary_lines()[1:]]
        return out


_FIELDS = {
    "emotion": "human_emotion",
    "role": "human_role",
    "speaker": "human_speaker",
    "note": "note",
    "codes": "codes",
}


def _match_key(name: str) -> str:
    """A speaker name as files may have changed it: NFC, no control characters, white space
    (also RTTM's ``_``) collapsed, case folded."""
    text = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch) != "Cc")
    return " ".join(text.replace("_", " ").split()).casefold()


def _speaker_labels(ws: Workspace, lesson_id: int, items: Sequence[Annotated], report: ImportReport) -> dict[str, str]:
    """Imported speaker name -> lesson speaker label (new speakers added)."""
    by_name: dict[str, str] = {}
    for s in ws.speakers(lesson_id):
        by_name.setdefault(_match_key(s.name), s.label)
        by_name[_match_key(s.label)] = s.label
    out: dict[str, str] = {}
    for name in sorted({a.speaker for a in items if a.speaker}):
        label = by_name.get(_match_key(name))
        if label is None:
            label = ws.add_speaker(lesson_id, display_name=name).label
            by_name[_match_key(name)] = label
            report.new_speakers.append(name)
        out[name] = label
    return out


def apply_to_lesson(
    ws: Workspace,
    lesson_id: int,
    items: Sequence[Annotated],
    overwrite: bool = False,
    min_overlap: float = 0.5,
    fields: Sequence[str] = tuple(_FIELDS),
) -> ImportReport:
    """Make ``items`` the human layer of lesson ``lesson_id`` (module doc)."""
    report = ImportReport(imported=len(items))
    lesson = ws.lesson(lesson_id)
    current = [u for u in ws.utterances(lesson_id)]
    report.agreement = compare([Annotated.model_layer(u) for u in current], items, min_overlap, "file")
    end = lesson.duration_s
    inside = []
    for a in items:
        if a.start_s < 0 or (end is not None and a.start_s >= end):
            report.skipped += 1
            continue
        inside.append(a if end is None or a.end_s <= end else _clip_end(a, end))
    speakers = _speaker_labels(ws, lesson_id, inside, report) if "speaker" in fields else {}
    pairs, _, unmatched = align([Annotated.from_utterance(u) for u in current], inside, min_overlap)
    by_id = {u.id: u for u in current}
    changes: dict[int, dict[str, Any]] = {}
    for p in pairs:
        u = by_id[p.a.utterance_id]
        change = _changes(u, p.b, speakers, fields, overwrite, report)
        if change:
            changes[stored_id(u.id)] = change
    report.paired = len(pairs)
    if changes:
        ws.update_human(changes, "import")
    for a in unmatched:
        ws.create_utterance(
            lesson_id,
            a.start_s,
            a.end_s,
            speaker=speakers.get(a.speaker or "") if "speaker" in fields else None,
            role=a.role if "role" in fields else None,
            emotion=a.emotion if "emotion" in fields else None,
            note=a.note if "note" in fields else "",
            codes=a.codes if "codes" in fields else (),
        )
        report.created += 1
        for name in fields:
            if _imported(a, name, speakers):
                report.labels_set[name] = report.labels_set.get(name, 0) + 1
    return report


def _clip_end(a: Annotated, end: float) -> Annotated:
    return replace(a, end_s=end)


def _imported(a: Annotated, name: str, speakers: Mapping[str, str]) -> Any:
    if name == "speaker":
        return speakers.get(a.speaker or "")
    if name == "codes":
        return tuple(a.codes) or None
    if name == "note":
        return a.note or None
    return getattr(a, name)


def _changes(
    u: Any, a: Annotated, speakers: Mapping[str, str], fields: Sequence[str], overwrite: bool, report: ImportReport
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = _imported(a, name, speakers)
        if value is None:
            continue
        attr = _FIELDS[name]
        existing = getattr(u, attr)
        existing = tuple(existing) if name == "codes" else (existing or None)
        if existing == value:
            continue
        if existing and not overwrite:
            report.kept += 1
            continue
        if name == "speaker" and value == u.final_speaker and not u.human_speaker:
            continue  # the model already says so; nothing to pin
        out[attr] = list(value) if name == "codes" else value
        report.labels_set[name] = report.labels_set.get(name, 0) + 1
    return out
