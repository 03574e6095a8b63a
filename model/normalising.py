"""Utterance features as the model expects them: raw log-mel per clip, standardised with the
model's global statistics or (speaker normalisation) with each speaker's own.

Training (:mod:`model.train`), evaluation (:mod:`model.evaluate`) and inference
(:mod:`model.inference`) prepare whole utterances here, so all three standardise alike. A
``key`` names an utterance's normalisation group: its speaker, or a key of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from model.bundle import ModelBundle
from model.data import Item
from model.features import SpeakerStats

__all__ = ["clean_features", "group_keys", "normalise_features", "raw_features", "speaker_keys", "speaker_stats"]


def group_keys(keys: Sequence[Any] | None, n: int) -> list[Any]:
    """Normalisation group of each of ``n`` utterances: ``keys[i]``, or a key of its own
    where that is None (or where no ``keys`` are given)."""
    return [("utterance", i) if keys is None or keys[i] is None else keys[i] for i in range(n)]


def speaker_keys(items: Sequence[Item]) -> list[Any]:
    """Normalisation group of each item: its speaker, or a key of its own when unknown."""
    return group_keys([it.speaker or None for it in items], len(items))


@torch.no_grad()
def raw_features(wavs: Sequence[np.ndarray], bundle: ModelBundle) -> list[torch.Tensor]:
    """Un-normalised log-mel ``(T_i, n_mels)`` per utterance, on the bundle's device."""
    out = []
    for w in wavs:
        x = torch.from_numpy(np.asarray(w, dtype=np.float32))[None].to(bundle.device)
        out.append(bundle.features.raw(x)[0])
    return out


def speaker_stats(raw: Sequence[torch.Tensor], keys: Sequence[Any], bundle: ModelBundle) -> SpeakerStats:
    """:class:`SpeakerStats` of raw features ``raw`` grouped by ``keys``."""
    stats = SpeakerStats(bundle.features)
    for f, k in zip(raw, keys):
        stats.add(k, f)
    return stats


def normalise_features(
    raw: Sequence[torch.Tensor],
    bundle: ModelBundle,
    keys: Sequence[Any] | None = None,
    stats: SpeakerStats | None = None,
) -> list[torch.Tensor]:
    """Standardise raw features as the model expects: with the global statistics, or (speaker
    normalisation) with the statistics of each utterance's speaker ``keys[i]`` (``None``
    keys: each utterance alone), from ``stats`` or else from ``raw`` itself."""
    if not bundle.feature_config.speaker_normalised:
        return [bundle.features.normalise(f) for f in raw]
    keys = group_keys(keys, len(raw))
    stats = stats or speaker_stats(raw, keys, bundle)
    out = []
    for f, k in zip(raw, keys):
        mean, std = stats.get(k)
        out.append(bundle.features.normalise(f, mean.to(f.device), std.to(f.device)))
    return out


@torch.no_grad()
def clean_features(
    wavs: Sequence[np.ndarray], bundle: ModelBundle, normalised: bool = True, keys: Sequence[Any] | None = None
) -> list[torch.Tensor]:
    """Per-utterance log-mel ``(T_i, n_mels)`` on the bundle's device (one clip at a time),
    normalised as the model expects (``keys``: speaker of each clip, for speaker
    normalisation; see :func:`normalise_features`)."""
    raw = raw_features(wavs, bundle)
    return normalise_features(raw, bundle, keys) if normalised else raw
