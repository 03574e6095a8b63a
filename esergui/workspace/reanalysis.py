"""How a new analysis is laid over a lesson that people have already edited (pure functions).

The rule (also in docs/ARCHITECTURE.md, "Re-analysis keeps human edits"):

1. An utterance is **pinned** when it carries any human edit (human emotion/role/speaker, a
   note, codes, the reviewed flag, or human boundaries: created, split, merged or moved) or
   when a person deleted it (a tombstone). Pinned utterances keep their boundaries and their
   whole human layer; only their model layer is refreshed from the new run.
2. New model utterances are cut away where they overlap a pinned span (pieces shorter than
   ``min_piece_s`` are dropped), so a deleted utterance stays deleted and a moved boundary
   stays where the person put it. Every other old utterance is replaced.
3. New speakers are mapped onto the lesson's existing speakers by shared talk time: a new
   voice takes over the old speaker that covers at least half of its speech (keeping its
   label, display name and human-set role). Only one new voice may take over an old speaker,
   unless a person edited that speaker (renamed, set its role, merged another into it): then
   every new voice that mostly overlaps it joins it, so a merge survives re-clustering.
   Speakers a person edited are never deleted.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence, Set
from dataclasses import replace
from typing import Generic, TypeVar

from esergui.lesson import Utterance

Span = tuple[float, float]
T = TypeVar("T")

MODEL_FIELDS = ("speaker", "role", "role_confidence", "emotion", "confidence", "probabilities")


def subtract_spans(start: float, end: float, holes: Sequence[Span]) -> list[Span]:
    """``[start, end)`` minus the union of ``holes`` (sorted by start), as sorted spans."""
    pieces: list[Span] = []
    cursor = start
    for a, b in holes:
        if b <= cursor:
            continue
        if a >= end:
            break
        if a > cursor:
            pieces.append((cursor, min(a, end)))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def trim_to_free(utterances: Iterable[Utterance], pinned: Sequence[Span], min_piece_s: float = 0.2) -> list[Utterance]:
    """Model utterances with pinned spans cut out; pieces keep the model layer."""
    holes = sorted(pinned)
    out: list[Utterance] = []
    for u in utterances:
        pieces = subtract_spans(u.start_s, u.end_s, holes)
        if pieces == [(u.start_s, u.end_s)]:
            out.append(u)
            continue
        for a, b in pieces:
            if b - a >= min_piece_s:
                out.append(replace(u, start_s=a, end_s=b, id=None))
    return out


class OverlapIndex(Generic[T]):
    """Time overlap queries against a fixed list of labelled spans (sorted once)."""

    def __init__(self, spans: Iterable[tuple[float, float, T]]) -> None:
        self._spans = sorted(spans, key=lambda s: s[0])
        self._starts = [s[0] for s in self._spans]
        self._longest = max((b - a for a, b, _ in self._spans), default=0.0)

    def overlaps(self, start: float, end: float) -> list[tuple[float, T]]:
        """``(overlap seconds, payload)`` of every span overlapping ``[start, end)``."""
        out: list[tuple[float, T]] = []
        i = bisect.bisect_left(self._starts, end)
        lo = start - self._longest
        while i > 0:
            i -= 1
            a, b, payload = self._spans[i]
            if a < lo:
                break
            ov = min(b, end) - max(a, start)
            if ov > 0:
                out.append((ov, payload))
        return out

    def best(self, start: float, end: float) -> T | None:
        """Payload of the span with the largest overlap, or None."""
        found = self.overlaps(start, end)
        return max(found, key=lambda t: t[0])[1] if found else None


def with_model_layer(target: Utterance, source: Utterance) -> Utterance:
    """``target`` with the model layer (:data:`MODEL_FIELDS`) of ``source``."""
    return replace(
        target,
        speaker=source.speaker,
        role=source.role,
        role_confidence=source.role_confidence,
        emotion=source.emotion,
        confidence=source.confidence,
        probabilities=source.probabilities,
    )


def refresh_model_layer(pinned: Utterance, new: OverlapIndex[Utterance]) -> Utterance:
    """``pinned`` with its model layer taken from the new utterance overlapping it most
    (cleared when nothing overlaps)."""
    source = new.best(pinned.start_s, pinned.end_s)
    if source is None:
        return replace(
            pinned, speaker=None, role=None, role_confidence=None, emotion=None, confidence=None, probabilities={}
        )
    refreshed = with_model_layer(pinned, source)
    return refreshed if source.probabilities is not None else replace(refreshed, probabilities={})


def map_speakers(
    old: Iterable[tuple[float, float, str]],
    new: Iterable[tuple[float, float, str]],
    sticky: Set[str] = frozenset(),
) -> dict[str, str]:
    """Map new speaker labels onto old ones by shared talk time (rule 3 of the module doc).

    ``old``/``new``: ``(start_s, end_s, label)`` per utterance. Returns ``{new: old}`` for the
    new labels that take over an old speaker; unmapped new labels are absent."""
    index = OverlapIndex(old)
    shared: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    talk: dict[str, float] = defaultdict(float)
    for a, b, label in new:
        talk[label] += b - a
        for ov, old_label in index.overlaps(a, b):
            shared[label][str(old_label)] += ov
    claims: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for label, row in shared.items():
        old_label, ov = max(row.items(), key=lambda kv: kv[1])
        if ov >= 0.5 * talk[label]:
            claims[old_label].append((ov, label))
    mapping: dict[str, str] = {}
    for old_label, wanted in claims.items():
        wanted.sort(reverse=True)
        takers = wanted if old_label in sticky else wanted[:1]
        for _ov, label in takers:
            mapping[label] = old_label
    return mapping


def fresh_label(label: str, taken: set[str]) -> str:
    """``label``, or ``label-2``, ``label-3``... whichever is not in ``taken``."""
    if label not in taken:
        return label
    k = 2
    while f"{label}-{k}" in taken:
        k += 1
    return f"{label}-{k}"
