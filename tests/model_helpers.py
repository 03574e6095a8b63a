"""Shared helpers of the model tests: a tiny ESERNet configuration and a few EmoDB clips."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from model.config import ModelConfig, TrainConfig
from model.data import Item, emodb_items

if TYPE_CHECKING:
    import torch

TINY = dict(
    dim=16, heads=2, cue_layers=1, sformer_dims=(16, 16, 16), classifier_hidden=16, st_layers=1, dropout=0.0, n_mels=40
)


def tiny_config(variant: str = "esernet", **kw) -> ModelConfig:
    return ModelConfig(variant=variant, **{**TINY, **kw})


def tiny_train(**kw) -> TrainConfig:
    base = dict(epochs=2, batch_size=8, crop_s=1.5, warmup_epochs=0, p_noise=0.5, p_speed=0.3)
    return TrainConfig(**{**base, **kw})


def few_clips(
    emodb: Path, per_label: int = 2, labels=("anger", "sadness", "neutral"), speakers=("03", "08", "09", "10")
) -> list[Item]:
    """``per_label`` clips per label per speaker, shortest first (keeps tests fast)."""
    import soundfile as sf

    out = []
    for spk in speakers:
        for lab in labels:
            cands = [it for it in emodb_items(emodb) if it.speaker == spk and it.label == lab]
            cands.sort(key=lambda it: sf.info(it.path).frames)
            out.extend(cands[:per_label])
    return out


def write_signed_model(path: Path, meta_json: str, tensors: dict[str, torch.Tensor]) -> Path:
    """Write a model file whose checksum is valid for this metadata (JSON text) and these tensors."""
    from safetensors.torch import save_file

    from model.io import FORMAT, FORMAT_VERSION, _checksum

    save_file(
        tensors,
        str(path),
        metadata={
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "meta": meta_json,
            "sha256": _checksum(meta_json, tensors),
        },
    )
    return path
