"""Plain-data view of one lesson for the plots and the table: parallel numpy columns.

The views never touch the workspace store directly; :func:`esergui.review.adapters.load_lesson_data`
builds a :class:`LessonData` from the store's records, tests and benchmarks build one from
arrays. Times are seconds from the start of the lesson; rows are sorted by ``start``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from esergui.audio.locked import LockedSource


@dataclass
class LessonData:
    """One lesson's utterances as columns (all ``(N,)``, sorted by ``start``).

    ``label`` indexes ``labels`` (-1: not recognised yet); ``confidence`` is the top class
    probability in ``[0, 1]`` (NaN when unknown); ``probs`` is ``(N, len(labels))`` or None.
    """

    name: str
    duration_s: float
    labels: tuple[str, ...]
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    speaker: np.ndarray
    role: np.ndarray
    annotated: np.ndarray
    ids: np.ndarray
    probs: np.ndarray | None = None
    lesson_id: int | str | None = None
    source: LockedSource | None = None
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(len(self.start))

    @classmethod
    def empty(cls, name: str = "", duration_s: float = 0.0, labels: Sequence[str] = ()) -> LessonData:
        return cls.from_columns(name, duration_s, labels, start=[], end=[])

    @classmethod
    def from_columns(
        cls,
        name: str,
        duration_s: float,
        labels: Sequence[str],
        *,
        start: Sequence[float],
        end: Sequence[float],
        label: Sequence[int] | None = None,
        confidence: Sequence[float] | None = None,
        speaker: Sequence[str] | None = None,
        role: Sequence[str] | None = None,
        annotated: Sequence[bool] | None = None,
        ids: Sequence[int] | None = None,
        probs: np.ndarray | None = None,
        **kw,
    ) -> LessonData:
        """Build from any sequences; missing columns get neutral defaults; rows get sorted."""
        n = len(start)
        cols: dict[str, np.ndarray] = dict(
            start=np.asarray(start, dtype=np.float64).reshape(n),
            end=np.asarray(end, dtype=np.float64).reshape(n),
            label=np.asarray(label if label is not None else np.full(n, -1), dtype=np.int32).reshape(n),
            confidence=np.asarray(
                confidence if confidence is not None else np.full(n, np.nan), dtype=np.float32
            ).reshape(n),
            speaker=np.asarray(speaker if speaker is not None else [""] * n, dtype=object).reshape(n),
            role=np.asarray(role if role is not None else [""] * n, dtype=object).reshape(n),
            annotated=np.asarray(annotated if annotated is not None else np.zeros(n, bool), dtype=bool).reshape(n),
            ids=np.asarray(ids if ids is not None else np.arange(n), dtype=np.int64).reshape(n),
        )
        p = None if probs is None else np.asarray(probs, dtype=np.float32).reshape(n, len(labels))
        order = np.argsort(cols["start"], kind="stable")
        if n and np.any(order != np.arange(n)):
            cols = {k: v[order] for k, v in cols.items()}
            p = None if p is None else p[order]
        return cls(
            name=name,
            duration_s=float(duration_s),
            labels=tuple(labels),
            probs=p,
            start=cols["start"],
            end=cols["end"],
            label=cols["label"],
            confidence=cols["confidence"],
            speaker=cols["speaker"],
            role=cols["role"],
            annotated=cols["annotated"],
            ids=cols["ids"],
            **kw,
        )

    def row_of_id(self, uid: int) -> int:
        """Row index of utterance id ``uid`` (-1 if absent)."""
        hits = np.flatnonzero(self.ids == uid)
        return int(hits[0]) if hits.size else -1

    def label_name(self, row: int) -> str:
        k = int(self.label[row])
        return self.labels[k] if 0 <= k < len(self.labels) else ""

    def speakers(self) -> list[str]:
        """Distinct speakers, most talk time first."""
        if not len(self):
            return []
        talk: dict[str, float] = {}
        for s, d in zip(self.speaker, self.end - self.start):
            talk[str(s)] = talk.get(str(s), 0.0) + float(d)
        return sorted(talk, key=lambda s: (-talk[s], s))

    def roles(self) -> list[str]:
        """Distinct roles, teacher first."""
        present = {str(r) for r in self.role}
        order = [r for r in ("teacher", "student") if r in present]
        return order + sorted(present - set(order))
