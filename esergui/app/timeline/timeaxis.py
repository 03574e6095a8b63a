"""Time formatting and the shared time axis, plus lane layout and the emotion and arousal
curves (numpy)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from scipy.ndimage import gaussian_filter1d

from esergui.review.lessondata import LessonData
from esergui.timefmt import format_time

#: Tick steps in seconds that read as round times (0:30, 1:00, 5:00 ...).
ROUND_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
MIN_TICK_PX = 70  # labelled ticks at least this far apart


def round_tick_steps(span_s: float, size_px: float) -> tuple[float, float]:
    """``(major, minor)`` tick steps for ``span_s`` seconds over ``size_px`` pixels: the smallest
    round step leaving :data:`MIN_TICK_PX` between labels, and the largest round step below it
    that divides it."""
    need = span_s * MIN_TICK_PX / max(size_px, 1.0)
    major = next((s for s in ROUND_STEPS if s >= need), ROUND_STEPS[-1])
    below = [s for s in ROUND_STEPS if s < major and abs(major / s - round(major / s)) < 1e-9]
    return float(major), float(below[-1] if below else major / 2)


class TimeAxisItem(pg.AxisItem):
    """Bottom axis labelled as m:ss / h:mm:ss (with tenths when zoomed in), ticks at round
    times (:func:`round_tick_steps`)."""

    def __init__(self, orientation: str = "bottom", **kw) -> None:
        super().__init__(orientation, **kw)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph API)
        if maxVal <= minVal or size <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        major, minor = round_tick_steps(maxVal - minVal, size)
        return [(major, 0.0), (minor, 0.0)]

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


def row_arousal(data: LessonData) -> np.ndarray:
    """``(N,)`` arousal in [-1, 1] of each row (:attr:`esergui.lesson.Utterance.arousal`, from
    the records the adapter keeps); NaN where unknown, all NaN without records."""
    recs = data.extra.get("records")
    if recs is None or len(recs) != len(data):
        return np.full(len(data), np.nan)
    return np.array([np.nan if u.arousal is None else u.arousal for u in recs], dtype=np.float64)


def arousal_curve(data: LessonData, step_s: float = 2.0, sigma_s: float = 45.0) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed arousal over time: ``(t (T,), arousal (T,))``, the speech-time-weighted mean of
    the utterances' arousal under a Gaussian of ``sigma_s`` seconds; NaN where nobody spoke
    nearby or no utterance has an arousal (then the whole curve is NaN)."""
    n_steps = max(2, int(np.ceil(max(data.duration_s, 1e-3) / step_s)) + 1)
    t = np.arange(n_steps) * step_s
    a = row_arousal(data)
    known = ~np.isnan(a)
    if not known.any():
        return t, np.full(n_steps, np.nan)
    num, den = np.zeros(n_steps), np.zeros(n_steps)
    first = np.clip((data.start[known] / step_s).astype(int), 0, n_steps - 1)
    last = np.clip((data.end[known] / step_s).astype(int), 0, n_steps - 1)
    for i, j, value in zip(first, last, a[known]):
        num[i : j + 1] += value
        den[i : j + 1] += 1.0
    if sigma_s > 0:
        num = gaussian_filter1d(num, sigma_s / step_s, mode="constant", truncate=3.0)
        den = gaussian_filter1d(den, sigma_s / step_s, mode="constant", truncate=3.0)
    out = np.full(n_steps, np.nan)
    ok = den > 1e-3 * max(1e-9, den.max())
    out[ok] = num[ok] / den[ok]
    return t, out
