"""Mockingjay/TERA-style time masking for the crucial-cue pathway.

``span_mask(lengths, rate, span)`` -> ``(B, T)`` bool, True on masked frames: contiguous spans
of ``span`` frames starting at random positions until about ``rate`` of each utterance's real
frames are covered (never padding, at least one span per utterance).
"""

from __future__ import annotations

import torch


def span_mask(
    lengths: torch.Tensor, max_len: int, rate: float, span: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Random contiguous-span time mask, ``(B, max_len)`` bool (True = masked)."""
    b = lengths.shape[0]
    mask = torch.zeros(b, max_len, dtype=torch.bool)
    for i in range(b):
        n = int(lengths[i])
        if n <= 0 or rate <= 0:
            continue
        s = max(1, min(span, n))
        n_spans = max(1, round(rate * n / s))
        starts = torch.randint(0, max(1, n - s + 1), (n_spans,), generator=generator)
        for st in starts.tolist():
            mask[i, st : st + s] = True
    return mask.to(lengths.device)
