"""A trained model in memory: network, feature front end (with its normalisation), labels,
configurations and metadata. :mod:`model.io` saves and loads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from model.calibration import temperature_of
from model.config import FeatureConfig, ModelConfig, TrainConfig
from model.features import LogMel
from model.network import ESERNet


@dataclass
class ModelBundle:
    net: ESERNet
    features: LogMel
    labels: list[str]
    model_config: ModelConfig
    feature_config: FeatureConfig
    train_config: TrainConfig = field(default_factory=TrainConfig)
    #: ``name``, ``training`` (data, epochs, seconds, device, ...), ``evaluation`` (figures).
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        model_config: ModelConfig,
        feature_config: FeatureConfig | None = None,
        labels: list[str] | None = None,
        train_config: TrainConfig | None = None,
    ) -> ModelBundle:
        feature_config = feature_config or FeatureConfig(n_mels=model_config.n_mels)
        labels = list(labels) if labels is not None else [f"class{i}" for i in range(model_config.n_classes)]
        if len(labels) != model_config.n_classes:
            raise ValueError(f"{len(labels)} labels for {model_config.n_classes} classes")
        if feature_config.n_channels != model_config.n_mels:
            raise ValueError("feature and model configurations disagree on the input channels (n_mels)")
        return cls(
            ESERNet(model_config),
            LogMel(feature_config),
            labels,
            model_config,
            feature_config,
            train_config or TrainConfig(),
        )

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", "esernet"))

    @property
    def temperature(self) -> float:
        """Confidence calibration (:mod:`model.calibration`; 1.0: none)."""
        return temperature_of(self.metadata)

    @property
    def chunk_frames(self) -> int:
        """Training crop length in frames: longer utterances are classified in chunks."""
        return max(
            50, int(round(self.train_config.crop_s * self.feature_config.sample_rate / self.feature_config.hop_length))
        )

    def to(self, device: torch.device | str) -> ModelBundle:
        self.net.to(device)
        self.features.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device
