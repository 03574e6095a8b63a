"""How the views show an utterance the model is unsure of: the column form of
:meth:`esergui.lesson.Utterance.is_uncertain` (below :data:`esergui.lesson.CONFIDENCE_THRESHOLD`
a model label is "uncertain"; a label a person set never is) and the probabilities as text."""

from __future__ import annotations

import numpy as np

from esergui.lesson import CONFIDENCE_THRESHOLD
from esergui.review.lessondata import LessonData


def uncertain_rows(data: LessonData, threshold: float = CONFIDENCE_THRESHOLD) -> np.ndarray:
    """``(N,)`` bool: rows with a model label whose confidence is below ``threshold``. The
    views' ``confidence`` column is NaN where a person set the emotion, so those never are."""
    conf = np.asarray(data.confidence, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (np.asarray(data.label) >= 0) & (conf < threshold)


def threshold_text(threshold: float = CONFIDENCE_THRESHOLD) -> str:
    """``"below 50 % confidence"``."""
    return f"below {threshold:.0%} confidence".replace("%", " %")


def probabilities_text(data: LessonData, row: int, top: int = 4) -> str:
    """The model's most probable labels of ``row``, e.g. ``"anger 41 % · neutral 35 % · fear 12 %"``
    ("" without probabilities)."""
    if data.probs is None or not 0 <= row < len(data) or not len(data.labels):
        return ""
    p = np.asarray(data.probs[row], dtype=np.float64)
    if not np.isfinite(p).all() or p.sum() <= 0:
        return ""
    order = np.argsort(-p)[:top]
    return " · ".join(f"{data.labels[k]} {p[k]:.0%}".replace("%", " %") for k in order if p[k] >= 0.005)
