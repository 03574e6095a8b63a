"""Praat TextGrid out and in, through praatio.

Writing: the tiers of :func:`esergui.formats.tiers.build_tiers` as interval tiers of one
TextGrid in Praat's long text format, UTF-8; the gaps between utterances are empty
intervals (Praat needs a tier to cover the whole time). An utterance without an emotion is
labelled ``(none)`` (see :data:`esergui.formats.tiers.NO_LABEL`), so it is never taken for
silence.

Reading: long and short text TextGrids as Praat writes them, in UTF-8 (with or without a
byte-order mark) or UTF-16 (either byte order, with its byte-order mark, as Praat writes a
file with characters outside ASCII when so set); point tiers are left out, empty intervals
are gaps. A file that is neither names what is wrong and, where it can, the line.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from esergui.formats.files import write_atomic
from esergui.formats.tiers import RawTier, TierSet

_CONTROL = re.compile("[\x00-\x1f\x7f]")


class TextGridError(ValueError):
    """The file is not a readable TextGrid (the message says where)."""


def write_textgrid(path: str | Path, tierset: TierSet, duration_s: float) -> Path:
    """Write ``tierset`` as a long-format TextGrid from 0 to ``duration_s`` (or the last
    utterance's end, if later), all or nothing."""
    from praatio import textgrid

    end = max([float(duration_s), *(b for t in tierset.tiers for _, b, _ in t.intervals), 0.001])
    tg = textgrid.Textgrid(minTimestamp=0.0, maxTimestamp=end)
    used: set[str] = set()
    for tier in tierset.tiers:
        name = base = _one_line(tier.name).strip() or "tier"
        k = 2
        while name in used:  # praatio refuses two tiers of one name
            name, k = f"{base} ({k})", k + 1
        used.add(name)
        entries = [(a, b, _one_line(text)) for a, b, text in tier.intervals]
        tg.addTier(textgrid.IntervalTier(name, entries, 0.0, end))

    def save(tmp: Path) -> None:
        tg.save(str(tmp), format="long_textgrid", includeBlankSpaces=True, reportingMode="silence")

    return write_atomic(path, save)


def _one_line(text: str) -> str:
    """``text`` on one line without control characters (a TextGrid label is one line)."""
    return _CONTROL.sub("", re.sub(r"\r\n|[\r\n\t]", " ", text))


def decode(data: bytes) -> str:
    """TextGrid bytes as text: UTF-16 or UTF-8 by byte-order mark, else UTF-8 (else Latin-1,
    which Praat wrote before Unicode)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    if len(data) > 1 and data[0] == 0 and data[1] != 0:
        return data.decode("utf-16-be")
    if len(data) > 1 and data[1] == 0 and data[0] != 0:
        return data.decode("utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_textgrid(path: str | Path) -> list[RawTier]:
    """The interval tiers of a TextGrid file. Raises :class:`TextGridError`."""
    from praatio.utilities import textgrid_io

    path = Path(path)
    try:
        text = decode(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise TextGridError(f"the text cannot be decoded ({exc.reason})") from None
    head = text.lstrip()[:200]
    if "ooTextFile" not in head or "TextGrid" not in head:
        first = head.splitlines()[0] if head else "(empty file)"
        raise TextGridError(f"line 1 is '{first[:60]}', not a Praat TextGrid header (File type = \"ooTextFile\")")
    try:
        parsed = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=False)
    except Exception as exc:  # noqa: BLE001 - praatio raises bare ValueError/IndexError/AttributeError on damage
        raise TextGridError(f"damaged TextGrid near {_last_good_line(text)} ({type(exc).__name__}: {exc})") from None
    out = []
    for k, tier in enumerate(parsed.get("tiers", []), 1):
        if tier.get("class") != "IntervalTier":
            continue
        intervals = []
        for entry in tier.get("entries", []):
            start, end, label = float(entry[0]), float(entry[1]), str(entry[2])
            if end < start:
                raise TextGridError(
                    f'tier {k} ("{tier.get("name")}"): an interval ends ({end}) before it starts ({start})'
                )
            intervals.append((start, end, label))
        out.append(RawTier(str(tier.get("name", f"tier {k}")), intervals))
    return out


def _last_good_line(text: str) -> str:
    """Where parsing most likely stopped: the line of the last interval header."""
    lines = text.splitlines()
    for n in range(len(lines) - 1, -1, -1):
        if "intervals [" in lines[n] or "item [" in lines[n]:
            return f"line {n + 1} ('{lines[n].strip()[:40]}')"
    return f"line {len(lines)}"
