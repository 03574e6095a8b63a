"""ELAN ``.eaf`` (EAF 3.0) out and in, through pympi-ling.

Writing: the tiers of :func:`esergui.formats.tiers.build_tiers` as time-aligned tiers of one
linguistic type (``eser``), ELAN's PARTICIPANT set to the speaker on per-speaker tiers; times
in milliseconds. The audio is linked twice, as ELAN does it: ``MEDIA_URL`` the absolute
``file://`` URI, ``RELATIVE_MEDIA_URL`` the path relative to the ``.eaf`` (``./lesson.wav``,
``../audio/lesson.ogg``), so ELAN finds the audio when the folder with both moves; the
``MIME_TYPE`` comes from the audio's suffix. Characters XML 1.0 cannot carry (control
characters in a speaker name, a note...) are left out, so the file is always well-formed.

Reading: every tier with its annotations ``(start_s, end_s, value)`` (reference tiers take
their parent's times; annotations on unaligned time slots are skipped). A file that is not
well-formed XML names its line and column; one that is not an EAF document, or whose
annotation refers to a missing time slot or tier, names the element.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

from esergui.formats.files import write_bytes
from esergui.formats.tiers import RawTier, TierSet

LINGUISTIC_TYPE = "eser"
#: The EAF version written (pympi-ling itself writes 2.8; the document is valid 3.0 as it is).
EAF_VERSION = "3.0"
AUTHOR = "ESER Studio"
MIME_TYPES = {
    ".wav": "audio/x-wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".mp4": "video/mp4",
    ".webm": "audio/webm",
    ".aif": "audio/x-aiff",
    ".aiff": "audio/x-aiff",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class EafError(ValueError):
    """The file is not a readable ELAN document (the message names where)."""


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text)


def media_links(audio: str | Path, eaf_path: str | Path) -> tuple[str, str | None, str]:
    """``(absolute file URI, relative URL or None, MIME type)`` of ``audio`` seen from ``eaf_path``."""
    audio = Path(audio).absolute()
    try:
        rel = os.path.relpath(audio, Path(eaf_path).absolute().parent)
        rel_url = quote(Path(rel).as_posix(), safe="/._-~")
        relative: str | None = rel_url if rel_url.startswith("../") else "./" + rel_url
    except ValueError:  # another drive (Windows)
        relative = None
    return audio.as_uri(), relative, MIME_TYPES.get(audio.suffix.lower(), "application/octet-stream")


def eaf_document(tierset: TierSet, eaf_path: str | Path, audio: str | Path | None = None) -> bytes:
    """The ``.eaf`` bytes (UTF-8 XML) for ``tierset``."""
    from pympi.Elan import Eaf, to_adocument

    eaf = Eaf(author=AUTHOR)
    eaf.add_linguistic_type(LINGUISTIC_TYPE, timealignable=True)
    for tier in tierset.tiers:
        name = base = xml_text(tier.name).strip() or "tier"
        k = 2
        while name in eaf.tiers and name != "default":
            name, k = f"{base} ({k})", k + 1
        eaf.add_tier(name, ling=LINGUISTIC_TYPE, part=xml_text(tier.speaker or "") or None)
        for start, end, text in tier.intervals:
            a, b = round(start * 1000), round(end * 1000)
            if b > a:
                eaf.add_annotation(name, a, b, xml_text(text))
    if "default" in eaf.tiers and all(t.name != "default" for t in tierset.tiers):
        eaf.remove_tier("default")
    if not any(v[2].get("LINGUISTIC_TYPE_REF") == "default-lt" for v in eaf.tiers.values()):
        eaf.linguistic_types.pop("default-lt", None)
    if audio is not None:
        uri, relative, mime = media_links(audio, eaf_path)
        eaf.add_linked_file(uri, relpath=relative, mimetype=mime)
    eaf.adocument.update(
        {
            "VERSION": EAF_VERSION,
            "FORMAT": EAF_VERSION,
            "xsi:noNamespaceSchemaLocation": f"http://www.mpi.nl/tools/elan/EAFv{EAF_VERSION}.xsd",
        }
    )
    eaf.header["TIME_UNITS"] = "milliseconds"
    last = max((int(k[1:]) for t in eaf.tiers.values() for k in t[0] if k[1:].isdigit()), default=0)
    eaf.properties = [(k, v) for k, v in eaf.properties if k != "lastUsedAnnotation"] + [("lastUsedAnnotation", last)]
    root = to_adocument(eaf, pretty=True)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def write_eaf(path: str | Path, tierset: TierSet, audio: str | Path | None = None) -> Path:
    """Write ``tierset`` as an ELAN 3.0 file at ``path`` (all or nothing)."""
    return write_bytes(path, eaf_document(tierset, path, audio))


def read_eaf(path: str | Path) -> list[RawTier]:
    """The tiers of an ``.eaf`` file. Raises :class:`EafError` naming the line or element."""
    from pympi.Elan import Eaf

    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        raise EafError(f"not well-formed XML at line {line}, column {col + 1}") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise EafError(f"the root element is <{root.tag}>, not <ANNOTATION_DOCUMENT> (not an ELAN file)")
    _check_references(root)
    try:
        eaf = Eaf(str(path), suppress_version_warning=True)
    except Exception as exc:  # noqa: BLE001 - pympi raises bare KeyError/ValueError/AttributeError on odd files
        raise EafError(f"ELAN document not understood ({type(exc).__name__}: {exc})") from None
    out = []
    for name in eaf.get_tier_names():
        intervals = []
        for ann in eaf.get_annotation_data_for_tier(name):
            start, end, value = ann[0], ann[1], ann[2]
            if start is None or end is None or end <= start:
                continue
            intervals.append((start / 1000.0, end / 1000.0, value or ""))
        intervals.sort()
        participant = eaf.tiers[name][2].get("PARTICIPANT", "") or ""
        out.append(RawTier(name, intervals, participant))
    return out


def _check_references(root: ET.Element) -> None:
    """Every annotation's time slots and reference exist (pympi would fail with a bare KeyError)."""
    slots = {ts.get("TIME_SLOT_ID") for ts in root.iter("TIME_SLOT")}
    ids = {a.get("ANNOTATION_ID") for a in root.iter("ALIGNABLE_ANNOTATION")}
    ids |= {a.get("ANNOTATION_ID") for a in root.iter("REF_ANNOTATION")}
    tiers = {t.get("TIER_ID") for t in root.iter("TIER")}
    for tier in root.iter("TIER"):
        tid = tier.get("TIER_ID")
        if not tid:
            raise EafError("a <TIER> element has no TIER_ID")
        parent = tier.get("PARENT_REF")
        if parent and parent not in tiers:
            raise EafError(f'<TIER TIER_ID="{tid}"> names a parent tier "{parent}" that the file lacks')
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            for ref in ("TIME_SLOT_REF1", "TIME_SLOT_REF2"):
                if ann.get(ref) not in slots:
                    raise EafError(
                        f'<ALIGNABLE_ANNOTATION ANNOTATION_ID="{ann.get("ANNOTATION_ID")}"> in tier '
                        f'"{tid}": {ref} "{ann.get(ref)}" is not a TIME_SLOT of the file'
                    )
        for ann in tier.iter("REF_ANNOTATION"):
            if ann.get("ANNOTATION_REF") not in ids:
                raise EafError(
                    f'<REF_ANNOTATION ANNOTATION_ID="{ann.get("ANNOTATION_ID")}"> in tier "{tid}" '
                    f'refers to annotation "{ann.get("ANNOTATION_REF")}" that the file lacks'
                )
    for ts in root.iter("TIME_SLOT"):
        value = ts.get("TIME_VALUE")
        if value is not None and not value.strip().isdigit():
            raise EafError(
                f'<TIME_SLOT TIME_SLOT_ID="{ts.get("TIME_SLOT_ID")}"> has TIME_VALUE "{value}", '
                "not a whole number of milliseconds"
            )
