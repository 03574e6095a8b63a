"""Label mapping: :class:`LabelMap` maps, merges or drops source labels onto the model's;
:func:`suggest_mapping` matches names (with synonyms).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from esergui.retrain.sources import RetrainError
from model.data import Item

if TYPE_CHECKING:  # heavy imports (torch) stay inside the functions that need them
    pass


_SYNONYMS = {
    "angry": "anger",
    "ang": "anger",
    "mad": "anger",
    "happy": "happiness",
    "hap": "happiness",
    "joy": "happiness",
    "exc": "happiness",
    "excited": "happiness",
    "sad": "sadness",
    "neu": "neutral",
    "calm": "neutral",
    "bored": "boredom",
    "disgusted": "disgust",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
}


def suggest_mapping(source_labels: Sequence[str], model_labels: Sequence[str]) -> dict[str, str]:
    """Each source label onto the model label it names (case-insensitive, common synonyms such
    as ``angry`` -> ``anger``), else onto itself (a new label)."""
    by_lower = {lab.lower(): lab for lab in model_labels}
    out = {}
    for src in source_labels:
        key = src.strip().lower()
        key = key if key in by_lower else _SYNONYMS.get(key, key)
        out[src] = by_lower.get(key, src)
    return out


@dataclass
class LabelMap:
    """``mapping``: source label -> target label, or ``None`` to drop the label's clips. Two
    sources with one target merge. ``keep_model_labels``: keep the starting model's whole
    label list (targets must be among its labels) instead of a new set of just the targets."""

    mapping: dict[str, str | None]
    keep_model_labels: bool = True

    @classmethod
    def identity(cls, labels: Sequence[str]) -> LabelMap:
        return cls({lab: lab for lab in labels}, keep_model_labels=False)

    def targets(self) -> list[str]:
        return sorted({t for t in self.mapping.values() if t})

    def apply(self, items: Sequence[Item]) -> list[Item]:
        """Relabelled items; dropped labels (and labels missing from the mapping) are left out."""
        return [dataclasses.replace(it, label=target) for it in items if (target := self.mapping.get(it.label))]

    def label_list(self, model_labels: Sequence[str] | None) -> list[str]:
        """The new model's labels: the model's list (when kept and it covers the targets), else
        the sorted targets. Raises :class:`RetrainError` when targets are not model labels but
        the model's list must be kept."""
        targets = self.targets()
        if self.keep_model_labels and model_labels:
            outside = [t for t in targets if t not in model_labels]
            if outside:
                raise RetrainError(
                    f"Label(s) {', '.join(outside)} are not among the model's labels; map them "
                    "onto model labels, drop them, or choose a new label set."
                )
            return list(model_labels)
        return targets


def mapping_counts(items: Sequence[Item], label_map: Mapping[str, str | None]) -> dict[str, int]:
    """Clips per target label after mapping (dropped labels left out)."""
    return dict(sorted(Counter(target for it in items if (target := label_map.get(it.label))).items()))
