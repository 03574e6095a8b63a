"""Arousal and valence from emotion class probabilities (a documented mapping, no training).

Each emotion category gets a point of the valence-arousal plane, both axes in [-1, 1]
(arousal: calm -1 .. activated +1; valence: unpleasant -1 .. pleasant +1). An utterance's
``arousal`` and ``valence`` are the **expectation** of those points under the model's class
probabilities: ``arousal = sum_c p_c * arousal_c`` (likewise valence). A confident "anger" is
near anger's point; a clip split between anger and sadness lands in between. Because every
point lies in the unit square, so does every expectation.

Where the points come from
--------------------------
Russell's circumplex model of affect (J. A. Russell, "A circumplex model of affect",
*Journal of Personality and Social Psychology* 39(6), 1161-1178, 1980) places affect on a
circle around the pleasure (valence) and arousal axes, with eight anchors: pleasure 0 deg,
excitement 45, arousal 90, distress 135, displeasure 180, depression 225, sleepiness 270,
relaxation 315. Each category below sits at the anchor or at the middle of the octant that
holds its word, on the unit circle (a prototypical, full-intensity episode), so
``valence = cos(angle)``, ``arousal = sin(angle)``:

=========== ======= ================================================ ======= =======
category    angle   placed                                           arousal valence
=========== ======= ================================================ ======= =======
happiness    22.5   between pleasure and excitement (elated joy)      +0.38   +0.92
anger       112.5   between arousal and distress                      +0.92   -0.38
fear        112.5   between arousal and distress (EmoDB "Angst")      +0.92   -0.38
disgust     157.5   between distress and displeasure                  +0.38   -0.92
sadness     225     depression                                        -0.71   -0.71
boredom     247.5   between depression and sleepiness                 -0.92   -0.38
neutral     --      the centre (no affect): (0, 0)                     0.00    0.00
=========== ======= ================================================ ======= =======

The placement is by hand at octant resolution; it is *not* a measured rating of EmoDB's
clips. Disgust is the least settled: binary arousal tasks on EmoDB do not all agree where it
goes (Schuller et al., "Acoustic emotion recognition: a benchmark comparison of
performances", ASRU 2009, cluster each corpus' categories into binary arousal and valence);
here it is mildly activated. ``bench/affect_eval.py`` reports the high/low arousal figures
with disgust in either group. A few common labels of other corpora (``angry``, ``happy``,
``sad``, ``calm``, ``surprise``...) are placed by the same rule so a retrained model with
another label set still gets a read-out.

Any label set: labels without a point are left out and the remaining probabilities are
renormalised to sum to 1; with no known label (or no probability on known labels) the
result is NaN. ``high_low_arousal(label)`` groups a category by the sign of its arousal:
``"high"`` above 0, ``"low"`` otherwise (neutral goes with the calm, low group).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np


class Affect(NamedTuple):
    """A point of the valence-arousal plane; both in [-1, 1] (NaN: unknown)."""

    arousal: float
    valence: float


def _on_circle(angle_deg: float) -> Affect:
    a = math.radians(angle_deg)
    return Affect(arousal=math.sin(a), valence=math.cos(a))


#: Angle on Russell's (1980) circle per category (degrees; pleasure 0, arousal 90).
ANGLES_DEG: Mapping[str, float] = {
    "happiness": 22.5,
    "anger": 112.5,
    "fear": 112.5,
    "disgust": 157.5,
    "sadness": 225.0,
    "boredom": 247.5,
    # labels of other corpora, by the same rule
    "excitement": 45.0,
    "surprise": 67.5,
    "frustration": 135.0,
    "calm": 315.0,
}

#: The valence-arousal point of every known category (neutral at the centre).
COORDINATES: Mapping[str, Affect] = {
    **{label: _on_circle(angle) for label, angle in ANGLES_DEG.items()},
    "neutral": Affect(0.0, 0.0),
}

#: Other spellings of the same categories (matched case-insensitively).
ALIASES: Mapping[str, str] = {
    "angry": "anger",
    "happy": "happiness",
    "joy": "happiness",
    "sad": "sadness",
    "fearful": "fear",
    "anxiety": "fear",
    "afraid": "fear",
    "bored": "boredom",
    "disgusted": "disgust",
    "surprised": "surprise",
    "excited": "excitement",
    "frustrated": "frustration",
    "relaxed": "calm",
}

NAN_AFFECT = Affect(math.nan, math.nan)


def coordinates(label: str | None) -> Affect | None:
    """The point of ``label`` (case-insensitive, aliases accepted), ``None`` when unknown."""
    if not label:
        return None
    key = label.strip().lower()
    return COORDINATES.get(ALIASES.get(key, key))


def high_low_arousal(label: str | None) -> str | None:
    """``"high"`` for a category with positive arousal, ``"low"`` for one with arousal <= 0
    (neutral included), ``None`` for a label without a point."""
    point = coordinates(label)
    if point is None:
        return None
    return "high" if point.arousal > 0 else "low"


def affect_matrix(probabilities: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """``(N, 2)`` array of ``[arousal, valence]`` for ``(N, C)`` class ``probabilities`` in the
    order of ``labels``. Unknown labels are left out and the rest renormalised; a row with no
    probability on known labels gives NaN."""
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim == 1:
        probs = probs[None, :]
    if probs.shape[1] != len(labels):
        raise ValueError(f"{probs.shape[1]} probabilities per row but {len(labels)} labels")
    points = [coordinates(label) for label in labels]
    known = np.array([p is not None for p in points], dtype=bool)
    out = np.full((len(probs), 2), np.nan)
    if not known.any():
        return out
    table = np.array([p for p in points if p is not None], dtype=np.float64)  # (K, 2)
    mass = np.clip(probs[:, known], 0.0, None)
    total = mass.sum(axis=1)
    ok = total > 0
    out[ok] = (mass[ok] / total[ok, None]) @ table
    return np.clip(out, -1.0, 1.0)


def affect_from_probabilities(probabilities: Mapping[str, float]) -> Affect:
    """``Affect(arousal, valence)`` for ``{label: probability}``, as :func:`affect_matrix` does
    for one row (plain Python: summaries call it once per utterance). Values that are not
    finite non-negative numbers count as 0."""
    total = arousal = valence = 0.0
    for label, p in probabilities.items():
        point = coordinates(label)
        if point is None or not isinstance(p, (int, float)) or not p > 0 or math.isinf(p):
            continue
        total += p
        arousal += p * point.arousal
        valence += p * point.valence
    if total <= 0:
        return NAN_AFFECT
    return Affect(min(1.0, max(-1.0, arousal / total)), min(1.0, max(-1.0, valence / total)))


def high_arousal_probability(probabilities: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """``(N,)`` probability mass on high-arousal categories, renormalised over known labels
    (NaN where no known label has mass)."""
    probs = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, None)
    if probs.ndim == 1:
        probs = probs[None, :]
    groups = [high_low_arousal(label) for label in labels]
    high = np.array([g == "high" for g in groups])
    known = np.array([g is not None for g in groups])
    total = probs[:, known].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, probs[:, high].sum(axis=1) / total, np.nan)
