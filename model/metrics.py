"""Classification figures: WA (accuracy), UA (mean per-class recall), macro-F1, per-class
recall and the confusion matrix (rows = true class, columns = predicted)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass
class Figures:
    labels: list[str]
    n: int
    wa: float
    ua: float
    macro_f1: float
    recall: dict[str, float]
    confusion: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_figures(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> Figures:
    """Figures over the classes present in ``y_true`` (UA/F1 average over those classes)."""
    k = len(labels)
    yt = np.asarray(y_true, dtype=int)
    yp = np.asarray(y_pred, dtype=int)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (yt, yp), 1)
    present = cm.sum(1) > 0
    recall = np.where(present, np.diag(cm) / np.maximum(cm.sum(1), 1), np.nan)
    precision = np.diag(cm) / np.maximum(cm.sum(0), 1)
    f1 = np.where(recall + precision > 0, 2 * recall * precision / np.maximum(recall + precision, 1e-12), 0.0)
    return Figures(
        labels=list(labels),
        n=int(len(yt)),
        wa=float((yt == yp).mean()) if len(yt) else float("nan"),
        ua=float(np.nanmean(recall[present])) if present.any() else float("nan"),
        macro_f1=float(np.mean(f1[present])) if present.any() else float("nan"),
        recall={lab: float(recall[i]) for i, lab in enumerate(labels) if present[i]},
        confusion=cm.tolist(),
    )
