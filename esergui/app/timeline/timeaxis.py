"""Time formatting and the shared time axis, plus lane layout and the emotion curve (numpy)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from scipy.ndimage import gaussian_filter1d

from esergui.review.lessondata import LessonData
from esergui.timefmt import format_time


class TimeAxisItem(pg.AxisItem):
    """Bottom axis labelled as m:ss / h:mm:ss (with tenths when zoomed in)."""

    def __init__(self, orientation: str = "bottom", **kw) -> None:
        super().__init__(orientation, **kw)

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        decimals = 0 if spacing >= 1 else (1 if spacing >= 0.1 else 2)
        return [format_time(v, decimals) for v in values]


def lane_layout(data: LessonData, mode: str) -> tuple[np.ndarray, list[str]]:
    """Lane per row and lane names, top lane first. ``mode``: ``"role"`` or ``"speaker"``.

    Lane 0 is drawn at the top (the plots invert y)."""
    if mode == "speaker":
        names = data.speakers() or ["speaker"]
        column = data.speaker
    else:
        names = data.roles() or ["speech"]
        column = data.role
    index = {n: i for i, n in enumerate(names)}
    lanes = np.fromiter((index.get(str(v), 0) for v in column), dtype=int, count=len(data))
    return lanes, names


def emotion_curve(data: LessonData, step_s: float = 2.0, sigma_s: float = 45.0) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed emotion shares over time: ``(t (T,), shares (T, C))``.

    Each utterance spreads its class probabilities (or a one-hot of its label, weighted by
    confidence) over its duration on a ``step_s`` grid; a Gaussian of ``sigma_s`` seconds
    smooths it; shares are normalised per time step where there was speech nearby (else 0).
    """
    n_classes = len(data.labels)
    n_steps = max(2, int(np.ceil(max(data.duration_s, 1e-3) / step_s)) + 1)
    t = np.arange(n_steps) * step_s
    acc = np.zeros((n_steps, max(1, n_classes)))
    known = data.label >= 0
    if not n_classes or not known.any():
        return t, acc[:, :n_classes]
    if data.probs is not None:
        weights = data.probs[known].astype(np.float64)
    else:
        weights = np.zeros((int(known.sum()), n_classes))
        weights[np.arange(len(weights)), data.label[known]] = 1.0
    first = np.clip((data.start[known] / step_s).astype(int), 0, n_steps - 1)
    last = np.clip((data.end[known] / step_s).astype(int), 0, n_steps - 1)
    for a, b, w in zip(first, last, weights):
        acc[a : b + 1] += w
    if sigma_s > 0:
        acc = gaussian_filter1d(acc, sigma_s / step_s, axis=0, mode="constant", truncate=3.0)
    total = acc.sum(axis=1, keepdims=True)
    shares = np.divide(acc, total, out=np.zeros_like(acc), where=total > 1e-6 * max(1.0, total.max()))
    return t, shares
