"""Line-based formats: RTTM (diarisation: who spoke when) and Audacity label tracks.

Both are simple enough that a library would only add a dependency: each is one line per
utterance, written and parsed here with the line number in every error.

**RTTM** (NIST Rich Transcription Time Marked, as pyannote and the DIHARD/VoxConverse tools
use it): ``SPEAKER <file> 1 <onset> <duration> <NA> <NA> <speaker> <NA> <NA>``, onset and
duration in seconds (3 decimals). ``<file>`` is the export's file stem; a speaker is its
display name with white space replaced by ``_`` (RTTM fields are separated by spaces);
utterances without a speaker are ``unattributed``. Overlapping speech stays as it is.
Reading takes ``SPEAKER`` lines (others, blank lines and ``;;``/``#`` comments are skipped);
a file with several ``<file>`` ids needs the one to read.

**Audacity labels** (File > Export > Labels): ``<start>\\t<end>\\t<text>``, seconds.
The text is ``<speaker> | <role> | <emotion>`` (``(none)`` where missing). Reading accepts
that, ``<speaker> | <emotion>``, or a bare ``<emotion>``; Audacity's spectral-selection lines
(starting with ``\\``) are skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

from esergui.agreement import Annotated
from esergui.formats.files import write_text
from esergui.formats.tiers import NO_LABEL, UNATTRIBUTED

SEP = " | "
HUMAN = frozenset({"emotion", "role"})


class LinesError(ValueError):
    """A line of an RTTM or label file cannot be read (the message names it)."""


def read_text(path: str | Path) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _token(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip()) or UNATTRIBUTED


# ------------------------------------------------------------------------------- RTTM
def rttm_text(items: Sequence[Annotated], file_id: str) -> str:
    uri = _token(file_id)
    lines = [
        f"SPEAKER {uri} 1 {a.start_s:.3f} {a.end_s - a.start_s:.3f} <NA> <NA> {_token(a.speaker or UNATTRIBUTED)} <NA> <NA>"
        for a in sorted(items, key=lambda a: (a.start_s, a.end_s))
        if a.end_s > a.start_s
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def write_rttm(path: str | Path, items: Sequence[Annotated], file_id: str) -> Path:
    return write_text(path, rttm_text(items, file_id))


def read_rttm(path: str | Path, file_id: str | None = None) -> list[Annotated]:
    """Speaker turns of an RTTM file (of ``file_id`` when it holds several)."""
    rows: list[tuple[str, Annotated]] = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith((";;", "#")) or fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise LinesError(f"line {n}: an RTTM SPEAKER line needs at least 8 fields, this one has {len(fields)}")
        try:
            onset, duration = float(fields[3]), float(fields[4])
        except ValueError:
            raise LinesError(
                f"line {n}: onset '{fields[3]}' and duration '{fields[4]}' must be numbers of seconds"
            ) from None
        if not (math.isfinite(onset) and math.isfinite(duration)) or onset < 0 or duration < 0:
            raise LinesError(f"line {n}: onset and duration must not be negative")
        if duration > 0:
            rows.append((fields[1], Annotated(onset, onset + duration, None, None, fields[7], HUMAN)))
    files = sorted({f for f, _ in rows})
    if file_id is not None:
        rows = [r for r in rows if r[0] == file_id]
    elif len(files) > 1:
        raise LinesError(f"the file holds several recordings ({', '.join(files[:5])}); say which one to read")
    if not rows:
        raise LinesError("no SPEAKER lines" + (f" for '{file_id}'" if file_id else ""))
    return sorted((a for _, a in rows), key=lambda a: (a.start_s, a.end_s))


# ------------------------------------------------------------------------------- Audacity
def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").replace("|", "/").strip() or NO_LABEL


def audacity_text(items: Sequence[Annotated]) -> str:
    lines = [
        f"{a.start_s:.6f}\t{a.end_s:.6f}\t{_clean(a.speaker)}{SEP}{_clean(a.role)}{SEP}{_clean(a.emotion)}"
        for a in sorted(items, key=lambda a: (a.start_s, a.end_s))
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def write_audacity(path: str | Path, items: Sequence[Annotated]) -> Path:
    return write_text(path, audacity_text(items))


def _part(text: str) -> str | None:
    text = text.strip()
    return None if not text or text == NO_LABEL else text


def read_audacity(path: str | Path) -> list[Annotated]:
    """Labels of an Audacity label file (module doc)."""
    out = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip() or line.startswith("\\"):
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise LinesError(f"line {n}: an Audacity label line is '<start>\\t<end>\\t<text>' (tab-separated)")
        try:
            start, end = float(fields[0].replace(",", ".")), float(fields[1].replace(",", "."))
        except ValueError:
            raise LinesError(
                f"line {n}: start '{fields[0]}' and end '{fields[1]}' must be numbers of seconds"
            ) from None
        if end < start or start < 0:
            raise LinesError(f"line {n}: the label ends ({end}) before it starts ({start}) or starts before 0")
        parts = [_part(p) for p in ("\t".join(fields[2:])).split("|")]
        speaker = role = None
        if len(parts) >= 3:
            speaker, role, emotion = parts[0], parts[1], parts[-1]
        elif len(parts) == 2:
            speaker, emotion = parts
        else:
            emotion = parts[0]
        if end > start:  # a point label (start == end) marks a moment, not an utterance
            out.append(Annotated(start, end, emotion, role, speaker, HUMAN))
    if not out:
        raise LinesError("no labels with a duration")
    return sorted(out, key=lambda a: (a.start_s, a.end_s))
