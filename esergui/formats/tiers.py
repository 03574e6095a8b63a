"""Tiers: how a lesson's utterances become the tiers of ELAN and Praat files, and back.

**Export** (:func:`build_tiers`). Two layouts:

* ``fields`` (default): one tier per field, holding every utterance: ``speaker`` (the
  speaker's display name), ``role``, ``emotion``, ``arousal`` and ``valence`` (only when the
  utterance data has them; numbers like ``+0.38``), then ``codes`` (``;``-separated) and
  ``notes``, which hold only the utterances that have codes or a note.
* ``speakers``: the same fields per speaker, in tiers named ``<speaker>: <field>`` (ELAN's
  participant is the speaker), so utterances of different speakers never share a tier.

Every utterance is labelled on the dense tiers (``speaker``, ``role``, ``emotion``...): one
without a value there says :data:`NO_LABEL` (``(none)``), so it never looks like silence.
Times are rounded to the millisecond. Utterances on one tier never overlap: where one starts
before the previous one on that tier ends, its start is moved to that end (**clipped**); one
left shorter than 1 ms is dropped from that tier. :class:`TierSet` counts both.

**Import** (:func:`assemble`): tiers named as above map to fields by name (``X: field`` gives
speaker ``X``); a mapping given by the user overrides that (``{"Teacher": "emotion"}``), and a
tier of unknown name is, when no tier name is known at all, an emotion tier of a speaker of
that name (ELAN's participant where set). Within one speaker, the utterances come from the
``emotion`` tier (else ``role``, else ``speaker``, else the first mapped tier); an interval of
another tier joins the utterance it overlaps most, or becomes an utterance of its own.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from esergui.agreement import Annotated

#: Text of an utterance that has no value on a dense tier.
NO_LABEL = "(none)"
#: Fields in the order tiers are written; ``DENSE`` tiers hold every utterance.
FIELDS = ("speaker", "role", "emotion", "arousal", "valence", "codes", "notes")
DENSE = ("speaker", "role", "emotion", "arousal", "valence")
AFFECT = ("arousal", "valence")
ANCHORS = ("emotion", "role", "speaker")
LAYOUTS = ("fields", "speakers")
UNATTRIBUTED = "unattributed"
_ALIASES = {"note": "notes", "code": "codes", "emotions": "emotion", "roles": "role", "speakers": "speaker"}
MIN_SPAN_S = 0.001


@dataclass
class Tier:
    """One tier: ``intervals`` are ``(start_s, end_s, text)``, time-ordered, never overlapping."""

    name: str
    kind: str  # the field it holds (FIELDS)
    speaker: str | None = None
    intervals: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass
class TierSet:
    """The tiers of one lesson and what clipping did to fit them (module doc)."""

    tiers: list[Tier]
    clipped: int = 0
    dropped: int = 0


def _text(item: Annotated, name: str) -> str | None:
    if name == "codes":
        return ";".join(item.codes) or None
    if name == "notes":
        return item.note or None
    if name in AFFECT:
        value = getattr(item, name)
        return NO_LABEL if value is None else f"{value:+.2f}"
    value = getattr(item, name)
    return str(value) if value else NO_LABEL


def _ms(t: float) -> float:
    return round(float(t), 3)


def build_tiers(items: Sequence[Annotated], layout: str = "fields") -> TierSet:
    """Tiers of ``items`` (``speaker`` holding the display name) in ``layout`` (module doc)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown tier layout '{layout}' (use {' or '.join(LAYOUTS)})")
    items = sorted(items, key=lambda a: (a.start_s, a.end_s))
    fields = [f for f in FIELDS if f not in AFFECT or any(getattr(a, f) is not None for a in items)]
    if layout == "fields":
        groups: list[tuple[str | None, list[Annotated]]] = [(None, items)]
    else:
        order: dict[str, list[Annotated]] = {}
        for a in items:
            order.setdefault(a.speaker or UNATTRIBUTED, []).append(a)
        groups = list(order.items())
        fields = [f for f in fields if f != "speaker"]
    out = TierSet([])
    for speaker, members in groups:
        for name in fields:
            tier = Tier(name if speaker is None else f"{speaker}: {name}", name, speaker)
            cursor = 0.0
            for a in members:
                text = _text(a, name)
                if text is None:
                    continue
                start, end = _ms(a.start_s), _ms(a.end_s)
                if start < cursor:
                    start = cursor
                    if end - start < MIN_SPAN_S:
                        out.dropped += 1
                        continue
                    out.clipped += 1
                tier.intervals.append((start, end, text))
                cursor = end
            out.tiers.append(tier)
    return out


# ------------------------------------------------------------------------------- import
@dataclass
class RawTier:
    """A tier as read from a file: ``intervals`` ``(start_s, end_s, text)``; ``participant``
    is ELAN's PARTICIPANT attribute (empty elsewhere)."""

    name: str
    intervals: list[tuple[float, float, str]]
    participant: str = ""


def parse_tier_name(name: str) -> tuple[str | None, str | None]:
    """``(speaker, field)`` of a tier named as :func:`build_tiers` names them, else ``(None, None)``."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in FIELDS:
        return None, key
    if ":" in name:
        who, _, what = name.rpartition(":")
        what = _ALIASES.get(what.strip().lower(), what.strip().lower())
        if what in FIELDS and who.strip():
            return who.strip(), what
    return None, None


def tier_fields(
    tiers: Sequence[RawTier], mapping: Mapping[str, str] | None = None
) -> dict[str, tuple[str | None, str]]:
    """Tier name -> ``(speaker, field)`` for the tiers to import (module doc). ``mapping``
    (tier name -> field) chooses tiers; tiers it does not name are left out."""
    if mapping:
        out = {}
        for t in tiers:
            if t.name in mapping:
                wanted = _ALIASES.get(mapping[t.name].strip().lower(), mapping[t.name].strip().lower())
                speaker, _ = parse_tier_name(t.name)
                out[t.name] = (speaker or t.participant or None, wanted)
        return out
    known = {t.name: parse_tier_name(t.name) for t in tiers}
    if any(f is not None for _, f in known.values()):
        return {name: (s, f) for name, (s, f) in known.items() if f is not None}
    return {t.name: (t.participant or t.name, "emotion") for t in tiers}


def _value(text: str) -> str | None:
    text = text.strip()
    return None if not text or text == NO_LABEL else text


def _apply(item: Annotated, name: str, text: str) -> Annotated:
    value = _value(text)
    if name == "codes":
        return replace(item, codes=tuple(c.strip() for c in (value or "").split(";") if c.strip()))
    if name == "notes":
        return replace(item, note=text.strip())
    if name in AFFECT:
        try:
            number = float(value) if value is not None else None
        except ValueError:
            return item
        return replace(item, arousal=number) if name == "arousal" else replace(item, valence=number)
    if name == "speaker":
        return replace(item, speaker=value)
    if name == "role":
        return replace(item, role=value)
    return replace(item, emotion=value)


Fields = list[tuple[str, list[tuple[float, float, str]]]]


def assemble(tiers: Sequence[RawTier], chosen: Mapping[str, tuple[str | None, str]]) -> list[Annotated]:
    """Utterances from the ``chosen`` tiers (see :func:`tier_fields`), time-ordered. Tiers of
    no speaker that hold no utterances of their own (e.g. a ``notes`` tier beside per-speaker
    emotion tiers) join the utterances of every speaker."""
    by_speaker: dict[str | None, Fields] = {}
    for t in tiers:
        if t.name in chosen:
            speaker, name = chosen[t.name]
            by_speaker.setdefault(speaker, []).append((name, t.intervals))
    floating: Fields = []
    if None in by_speaker and len(by_speaker) > 1 and not any(n in ANCHORS for n, _ in by_speaker[None]):
        floating = by_speaker.pop(None)
    out: list[Annotated] = []
    for speaker, fields in by_speaker.items():
        names = [n for n, _ in fields]
        anchor = next((a for a in ANCHORS if a in names), names[0])
        items = [
            _apply(_blank(start, end, speaker), name, text)
            for name, intervals in fields
            if name == anchor
            for start, end, text in intervals
            if end > start and text.strip()
        ]  # an empty interval is a gap
        out.extend(_attach(items, [(n, iv) for n, iv in fields if n != anchor], speaker))
    if floating:
        out = _attach(out, floating, None)
    out.sort(key=lambda a: (a.start_s, a.end_s))
    return out


def _attach(items: list[Annotated], fields: Fields, speaker: str | None) -> list[Annotated]:
    """``items`` with each interval of ``fields`` joined to the item it overlaps most (or
    added as an item of ``speaker`` when it overlaps none)."""
    items = sorted(items, key=lambda a: a.start_s)
    starts = [a.start_s for a in items]
    longest = max((a.duration_s for a in items), default=0.0)
    for name, intervals in fields:
        for start, end, text in intervals:
            if end <= start or not text.strip():
                continue
            k = _best_overlap(items, starts, longest, start, end)
            if k is None:
                k = bisect.bisect_right(starts, start)
                items.insert(k, _apply(_blank(start, end, speaker), name, text))
                starts.insert(k, start)
                longest = max(longest, end - start)
            else:
                items[k] = _apply(items[k], name, text)
    return items


def _blank(start: float, end: float, speaker: str | None) -> Annotated:
    return Annotated(float(start), float(end), None, None, speaker, frozenset({"emotion", "role"}))


def _best_overlap(
    items: Sequence[Annotated], starts: Sequence[float], longest: float, start: float, end: float
) -> int | None:
    """Index of the item that overlaps ``[start, end)`` most (``None``: none overlaps)."""
    best, best_ov = None, 0.0
    k = bisect.bisect_left(starts, end) - 1
    while k >= 0 and starts[k] >= start - longest:
        a = items[k]
        ov = min(a.end_s, end) - max(a.start_s, start)
        if ov > best_ov:
            best, best_ov = k, ov
        k -= 1
    return best


def texts(tiers: Iterable[Tier]) -> dict[str, list[str]]:
    """Tier name -> the texts of its intervals (for reports and tests)."""
    return {t.name: [x for _, _, x in t.intervals] for t in tiers}
