"""Training recipes: named sets of feature, network and training settings plus the evaluation
protocol, so a cross-validation run, the bundled model and the model card name one thing.

* ``esernet-spknorm`` (recipe 1, bundled until 2026-12-04): log-mel with speaker
  normalisation, mean pooling, noise/gain/speed augmentation, early stopping on two held-out
  training speakers and the early-stopped model tested.
* ``esernet2`` (recipe 2): the same two pathways and loss ``(1-pi)*MSE + pi*CE``, with
  prosody channels (log F0, voicing, log energy) appended to every log-mel frame, mean + sd
  pooling of both pathways, the utterance's input statistics as an extra token before the
  classifier, no waveform noise/gain augmentation (speed perturbation and SpecAugment stay),
  and the nested protocol: epoch count and temperature chosen on held-out *training* speakers,
  then the fold model trained on all training speakers.
* ``esernet2-noise``: recipe 2 with mild noise augmentation (30 % of crops, 10-30 dB); run
  beside recipe 2 for comparison only (the augmentation choice was fixed before the runs; see
  the model card).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.config import FeatureConfig, ModelConfig, TrainConfig


@dataclass(frozen=True)
class Recipe:
    name: str
    features: FeatureConfig
    network: ModelConfig
    training: TrainConfig
    nested: bool

    def run_name(self, method: str, prosody: bool | None = None) -> str:
        """Results-folder stem of ``method`` (a variant or ``baseline``) under this recipe:
        ``esernet2``, ``esernet2-st``, ``esernet2-noprosody``, ``esernet2-baseline``."""
        base = self.name if method == "esernet" else f"{self.name}-{method}"
        if prosody is False and self.features.prosody:
            base += "-noprosody"
        return base

    def with_prosody(self, on: bool) -> Recipe:
        """The recipe with the prosody channels switched on or off (ablation)."""
        return dataclasses.replace(self, features=dataclasses.replace(self.features, prosody=on))


_R2_TRAIN = TrainConfig(epochs=40, patience=10, p_noise=0.0, p_gain=0.0)

RECIPES: dict[str, Recipe] = {
    "esernet-spknorm": Recipe(
        "esernet-spknorm", FeatureConfig(normalisation="speaker"), ModelConfig(), TrainConfig(), nested=False
    ),
    "esernet2": Recipe(
        "esernet2",
        FeatureConfig(normalisation="speaker", prosody=True),
        ModelConfig(pooling="mean_std", input_stats=True),
        _R2_TRAIN,
        nested=True,
    ),
    "esernet2-noise": Recipe(
        "esernet2-noise",
        FeatureConfig(normalisation="speaker", prosody=True),
        ModelConfig(pooling="mean_std", input_stats=True),
        dataclasses.replace(_R2_TRAIN, p_noise=0.3, snr_db=(10.0, 30.0)),
        nested=True,
    ),
}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"Unknown recipe {name!r}; choose from {sorted(RECIPES)}.") from None
