"""Honest retraining results: when a validation figure may be shown at all, the interval
around it, which figures may be compared, and when a new model may become active by default.

Rules (one place for the wizard, the models dialog and scripts):

* **Minimum size.** A figure is shown only from at least :data:`MIN_CLIPS` validation clips
  with at least :data:`MIN_PER_CLASS` in every class it averages over; below that it is
  "too few to measure". (With 30 clips a 70 % accuracy already has a 95 % Wilson interval
  of 52-83 %; with 6 clips a "100 %" has 61-100 %.)
* **Intervals** (95 %). Accuracy (WA) is a binomial proportion: Wilson score interval
  (:func:`scipy.stats.binomtest`). UA is the mean of per-class recalls: each recall's
  Jeffreys posterior, Beta(k + 1/2, n - k + 1/2), is sampled (seeded Monte Carlo) and the
  2.5th-97.5th percentiles of the sampled means are the interval. Unlike a bootstrap of the
  clips, this stays honest at 100 % recall (a bootstrap of 3 correct clips gives [100, 100]).
* **Protocols.** Every figure carries a protocol key: the validation clips it was measured
  on (a hash of their paths and labels), or a cross-validation entry such as
  ``esernet-spknorm/speaker-pairs``. Two figures are compared only when their keys are equal;
  a fine-tuned model's validation figure is never set against the bundled model's
  cross-validated figure.
* **Activation by default** only when the new model's evidence is sufficient, the starting
  (current) model was measured under the same protocol, and the UA difference's 95 % interval
  lies above zero. The two posteriors are sampled independently, which is conservative for
  figures on the same clips (their errors are positively correlated).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest

MIN_CLIPS = 30
MIN_PER_CLASS = 3
LEVEL = 0.95
DRAWS = 20000


@dataclass(frozen=True)
class Interval:
    """A ``level`` interval ``[low, high]`` (fractions) and how it was computed."""

    low: float
    high: float
    method: str
    level: float = LEVEL

    def text(self) -> str:
        return f"{100 * self.low:.0f}-{100 * self.high:.0f} %"


@dataclass(frozen=True)
class Evidence:
    """One model's validation figures under one protocol, with their intervals.

    ``counts``/``correct``: clips and correctly recognised clips per class (classes with
    clips only); ``sufficient``: the minimum size is met, else ``reason`` says why not."""

    protocol: str
    counts: Mapping[str, int]
    correct: Mapping[str, int]
    sufficient: bool
    reason: str
    wa: float
    ua: float
    wa_interval: Interval
    ua_interval: Interval

    @property
    def n(self) -> int:
        return int(sum(self.counts.values()))

    def text(self) -> str:
        """``"UA 71 % (95 % interval 62-79 %), 120 clips"`` or the reason it is not shown."""
        if not self.sufficient:
            return self.reason
        return f"UA {100 * self.ua:.0f} % (95 % interval {self.ua_interval.text()}), {self.n} clips"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """Whether a new model becomes active by default, and why (one sentence)."""

    activate: bool
    reason: str
    difference: Interval | None = None


def validation_protocol(items: Sequence[Any]) -> str:
    """The protocol key of figures measured on these validation clips (anything with
    ``path`` and ``label``): ``"validation:<12 hex digits>"``; the order does not matter."""
    digest = hashlib.sha256()
    for path, label in sorted((str(it.path), str(it.label)) for it in items):
        digest.update(f"{path}\t{label}\n".encode())
    return f"validation:{digest.hexdigest()[:12]}"


def _per_class(confusion: Sequence[Sequence[int]], labels: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
    cm = np.asarray(confusion, dtype=int).reshape(len(labels), len(labels))
    rows = cm.sum(axis=1)
    counts = {label: int(rows[i]) for i, label in enumerate(labels) if rows[i] > 0}
    correct = {label: int(cm[i, i]) for i, label in enumerate(labels) if rows[i] > 0}
    return counts, correct


def wilson(k: int, n: int, level: float = LEVEL) -> Interval:
    """Wilson score interval of ``k`` successes in ``n`` trials."""
    if n <= 0:
        return Interval(float("nan"), float("nan"), "Wilson score")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return Interval(float(ci.low), float(ci.high), "Wilson score", level)


def _ua_draws(counts: Mapping[str, int], correct: Mapping[str, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    draws = [rng.beta(correct[c] + 0.5, counts[c] - correct[c] + 0.5, DRAWS) for c in counts]
    return np.mean(draws, axis=0) if draws else np.full(DRAWS, np.nan)


def _percentiles(draws: np.ndarray, method: str, level: float = LEVEL) -> Interval:
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(float(low), float(high), method, level)


def _figure(figures: Any, key: str) -> Any:
    """``key`` of a :class:`model.metrics.Figures` or of its ``to_dict()``."""
    return figures.get(key) if isinstance(figures, Mapping) else getattr(figures, key)


def assess(
    figures: Any, protocol: str, min_clips: int = MIN_CLIPS, min_per_class: int = MIN_PER_CLASS, seed: int = 0
) -> Evidence:
    """The :class:`Evidence` of a :class:`model.metrics.Figures` (or its ``to_dict()``)
    measured under ``protocol``."""
    counts, correct = _per_class(_figure(figures, "confusion"), _figure(figures, "labels"))
    n, k = sum(counts.values()), sum(correct.values())
    thin = sorted(c for c, m in counts.items() if m < min_per_class)
    if n < min_clips:
        reason = f"too few to measure: {n} validation clips (at least {min_clips} needed)"
    elif thin:
        reason = (
            f"too few to measure: {', '.join(thin)} {'has' if len(thin) == 1 else 'have'} fewer than "
            f"{min_per_class} validation clips"
        )
    else:
        reason = ""
    ua = float(np.mean([correct[c] / counts[c] for c in counts])) if counts else float("nan")
    return Evidence(
        protocol,
        counts,
        correct,
        not reason,
        reason,
        k / n if n else float("nan"),
        ua,
        wilson(k, n),
        _percentiles(_ua_draws(counts, correct, seed), "Jeffreys posterior, Monte Carlo"),
    )


def restrict(figures: Any, labels: Sequence[str]) -> dict[str, Any]:
    """``figures`` (``labels``, ``confusion``) counted only over clips whose true label is in
    ``labels``: the same clips another model was scored on when it knows fewer labels."""
    names = list(_figure(figures, "labels"))
    keep = set(labels)
    cm = np.asarray(_figure(figures, "confusion"), dtype=int).reshape(len(names), len(names)).copy()
    for i, name in enumerate(names):
        if name not in keep:
            cm[i, :] = 0
    return {"labels": names, "confusion": cm.tolist()}


def comparable(a: Evidence, b: Evidence) -> bool:
    """Two figures may be set side by side only under the same protocol."""
    return a.protocol == b.protocol


def ua_difference(new: Evidence, base: Evidence) -> Interval:
    """95 % interval of ``new.ua - base.ua`` (independent posteriors: conservative for
    figures on the same clips)."""
    if not comparable(new, base):
        raise ValueError(f"figures of different protocols are not compared ({new.protocol} vs {base.protocol})")
    diff = _ua_draws(new.counts, new.correct, 1) - _ua_draws(base.counts, base.correct, 2)
    return _percentiles(diff, "difference of Jeffreys posteriors, Monte Carlo")


def activation(new: Evidence, base: Evidence | None) -> Decision:
    """Whether the new model becomes the active model by default (see the module doc)."""
    if not new.sufficient:
        return Decision(False, f"Not activated by default: {new.reason}.")
    if base is None:
        return Decision(
            False,
            "Not activated by default: the current model has no figure on the same validation clips to compare with.",
        )
    if not comparable(new, base):
        return Decision(
            False,
            "Not activated by default: the current model's figure comes from another protocol, "
            "so the two cannot be compared.",
        )
    diff = ua_difference(new, base)
    change = (
        f"UA {100 * (new.ua - base.ua):+.1f} points (95 % interval {100 * diff.low:+.1f} to {100 * diff.high:+.1f})"
    )
    if diff.low > 0:
        return Decision(True, f"Activated by default: better than the current model on the same clips, {change}.", diff)
    return Decision(False, f"Not activated by default: not clearly better than the current model, {change}.", diff)


def registry_protocol(figures: Mapping[str, Any]) -> str:
    """The protocol key of a registry entry's headline figures (:mod:`esergui.models`): the
    stored ``protocol``, else the cross-validation ``entry`` (``esernet-spknorm/speaker-pairs``),
    else what ``on`` says; ``""`` without figures."""
    if "ua" not in figures:
        return ""
    return str(figures.get("protocol") or figures.get("entry") or f"unspecified: {figures.get('on', '')}")


@dataclass(frozen=True)
class OutcomeEvidence:
    """A retraining run's evidence: the new model on all validation clips (``new``), the
    starting model (``base``) and the new model (``new_same``) on the clips whose labels the
    starting model knows (one protocol), and the activation :class:`Decision`."""

    new: Evidence
    base: Evidence | None
    new_same: Evidence | None
    decision: Decision

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def assess_outcome(outcome: Any) -> OutcomeEvidence:
    """The evidence of an :class:`esergui.retrain.RetrainOutcome` (``figures``,
    ``base_figures``, ``val_items``)."""
    new = assess(outcome.figures, validation_protocol(outcome.val_items))
    if outcome.base_figures is None:
        return OutcomeEvidence(new, None, None, activation(new, None))
    known_labels = set(outcome.base_figures.labels)
    protocol = validation_protocol([it for it in outcome.val_items if it.label in known_labels])
    base = assess(outcome.base_figures, protocol)
    new_same = assess(restrict(outcome.figures, sorted(known_labels)), protocol)
    return OutcomeEvidence(new, base, new_same, activation(new_same, base))
