"""Batch inputs: audio files, folders (searched recursively by audio extension) and manifest
CSVs (one lesson per row: ``path`` plus optional metadata such as ``teacher``, ``class``,
``date``, ``subject``).

A manifest row's relative ``path`` is read from the manifest's own folder. Every manifest
column other than ``path`` is kept as the lesson's metadata and lands in the combined tables.
An input that does not exist is not an error here: it becomes a lesson whose analysis fails
with a one-line reason, so the other lessons still run. A manifest without a ``path`` column
is a user error (:class:`BatchInputError`).
"""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from esergui.audio.info import AUDIO_EXTENSIONS
from esergui.errors import EserError

#: Metadata columns a manifest usually has (any other column is kept as well).
METADATA_COLUMNS = ("teacher", "class", "date", "subject")
MANIFEST_SUFFIXES = (".csv",)
PATH_COLUMNS = ("path", "file", "audio", "audio_path")


class BatchInputError(EserError):
    """A batch input cannot be used (an unreadable manifest, a manifest without paths)."""


@dataclass(frozen=True)
class LessonInput:
    """One lesson to analyse: its audio file and the metadata its manifest row gave."""

    path: Path
    metadata: dict[str, str] = field(default_factory=dict)
    source: str = ""  # where it came from: the manifest or folder, or "" for a file argument


def is_audio_file(path: Path) -> bool:
    return path.suffix.lower().lstrip(".") in AUDIO_EXTENSIONS


def find_audio(folder: Path) -> list[Path]:
    """Audio files below ``folder`` (recursively, sorted, hidden files and folders skipped)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / f for f in sorted(files) if not f.startswith(".") and is_audio_file(Path(f)))
    return found


def read_manifest(path: Path) -> list[LessonInput]:
    """Lessons of a manifest CSV (UTF-8, with or without a byte-order mark; ``,`` or ``;``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchInputError(f"cannot read the manifest {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.splitlines()[0] if text else "", delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.DictReader(text.splitlines(), dialect=dialect))
    header = [c.strip().lower() for c in (rows[0].keys() if rows else [])]
    path_col = next((c for c in PATH_COLUMNS if c in header), None)
    if path_col is None:
        raise BatchInputError(f"the manifest {path} has no 'path' column (columns: {', '.join(header) or 'none'})")
    lessons = []
    for row in rows:
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        audio = clean.pop(path_col)
        if not audio:
            continue
        audio_path = Path(audio).expanduser()
        if not audio_path.is_absolute():
            audio_path = path.parent / audio_path
        lessons.append(LessonInput(audio_path, {k: v for k, v in clean.items() if k}, str(path)))
    return lessons


def collect_inputs(arguments: Iterable[str | Path]) -> list[LessonInput]:
    """Expand the command line's inputs (files, folders, manifests, ``*`` patterns a shell did
    not expand) into lessons, in the order given (folders sorted). A file named twice is one
    lesson whose metadata is merged (a folder plus a manifest that describes some files)."""
    lessons: list[LessonInput] = []
    for arg in arguments:
        path = Path(arg).expanduser()
        if not path.exists() and any(c in str(path) for c in "*?["):  # a pattern the shell left alone (Windows)
            lessons.extend(
                LessonInput(Path(p), {}, str(arg))
                for p in sorted(glob.glob(str(path), recursive=True))
                if is_audio_file(Path(p))
            )
        elif path.is_dir():
            lessons.extend(LessonInput(p, {}, str(path)) for p in find_audio(path))
        elif path.suffix.lower() in MANIFEST_SUFFIXES and path.is_file():
            lessons.extend(read_manifest(path))
        else:
            lessons.append(LessonInput(path))
    merged: dict[Path, LessonInput] = {}
    for lesson in lessons:
        key = lesson.path.absolute()
        first = merged.get(key)
        if first is None:
            merged[key] = lesson
        else:  # named twice (a folder and a manifest row): one lesson, the metadata merged
            extra = {k: v for k, v in lesson.metadata.items() if v and not first.metadata.get(k)}
            merged[key] = LessonInput(first.path, {**first.metadata, **extra}, first.source or lesson.source)
    return list(merged.values())
