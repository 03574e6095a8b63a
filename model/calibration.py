"""Confidence calibration: temperature scaling (Guo et al., 2017, "On calibration of modern
neural networks") fitted on held-out *training* speakers, expected calibration error and a
reliability table.

A model file stores its temperature in its metadata (``metadata["temperature"]``); inference
divides the utterance's class log-probabilities by it and renormalises, so a probability of 0.7
means right about 70 % of the time on speakers like those it was fitted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

#: Temperatures outside this range are refused as implausible (a broken fit).
T_RANGE = (0.05, 20.0)


def temperature_of(metadata: Mapping[str, Any]) -> float:
    """The temperature stored in a model's metadata (1.0 when none or implausible)."""
    try:
        t = float(metadata.get("temperature", 1.0))
    except (TypeError, ValueError):
        return 1.0
    return t if np.isfinite(t) and T_RANGE[0] <= t <= T_RANGE[1] else 1.0


def apply_temperature(log_probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """``(N, C)`` log-probabilities -> calibrated log-probabilities (``log_softmax(x / T)``)."""
    if temperature == 1.0:
        return log_probs
    return torch.log_softmax(log_probs / temperature, dim=-1)


def fit_temperature(log_probs: np.ndarray | torch.Tensor, y: Sequence[int] | np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of labels ``y`` (``(N,)``) under
    ``log_softmax(log_probs / T)`` (``(N, C)``); searched on a log grid then refined, so it
    never diverges. Returns 1.0 for fewer than 2 items."""
    lp = torch.as_tensor(np.asarray(log_probs), dtype=torch.float64)
    yt = torch.as_tensor(list(y), dtype=torch.long)
    if len(yt) < 2:
        return 1.0

    def nll(t: float) -> float:
        return float(torch.nn.functional.cross_entropy(lp / t, yt))

    grid = np.exp(np.linspace(np.log(T_RANGE[0]), np.log(T_RANGE[1]), 121))
    best = float(grid[int(np.argmin([nll(t) for t in grid]))])
    fine = best * np.exp(np.linspace(-0.06, 0.06, 41))
    return float(fine[int(np.argmin([nll(t) for t in fine]))])


@dataclass
class Reliability:
    """Reliability table: per confidence bin, the items, their mean confidence and accuracy."""

    edges: np.ndarray  # (bins + 1,)
    counts: np.ndarray  # (bins,)
    confidence: np.ndarray  # (bins,) mean top probability (NaN where empty)
    accuracy: np.ndarray  # (bins,) share right (NaN where empty)
    ece: float  # expected calibration error (weighted |accuracy - confidence|)

    def markdown(self) -> str:
        rows = ["| confidence bin | n | mean confidence | accuracy |", "|---|---|---|---|"]
        for i, n in enumerate(self.counts):
            if n:
                rows.append(
                    f"| {self.edges[i]:.1f}-{self.edges[i + 1]:.1f} | {int(n)} | "
                    f"{100 * self.confidence[i]:.1f} | {100 * self.accuracy[i]:.1f} |"
                )
        return "\n".join(rows)


def reliability(probs: np.ndarray, y: Sequence[int], bins: int = 10) -> Reliability:
    """Reliability of ``(N, C)`` probabilities for labels ``y``, equal-width bins of the top
    probability; ECE = sum over bins of ``n_b / N * |acc_b - conf_b|``."""
    p = np.asarray(probs, dtype=float)
    yt = np.asarray(list(y))
    conf = p.max(1)
    right = (p.argmax(1) == yt).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    counts = np.bincount(which, minlength=bins).astype(float)
    mean_conf = np.full(bins, np.nan)
    acc = np.full(bins, np.nan)
    for b in range(bins):
        if counts[b]:
            mean_conf[b] = conf[which == b].mean()
            acc[b] = right[which == b].mean()
    filled = counts > 0
    ece = float(np.sum(counts[filled] / max(len(yt), 1) * np.abs(acc[filled] - mean_conf[filled])))
    return Reliability(edges, counts, mean_conf, acc, ece)
