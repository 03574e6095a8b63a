"""Fine-tuning: adapt an existing model file to new data (the retraining wizard's default).

:func:`fine_tune` loads a bundle, replaces the last classifier layer when the label set
changes (keeping the weights of the classes the base model knew) and trains it with
:func:`model.train.train_model`, the whole network or the classifier only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from model.config import TrainConfig
from model.data import Item
from model.errors import ModelError
from model.io import load_model
from model.train import EpochCallback, Progress, TrainResult, train_model

__all__ = ["fine_tune"]


def fine_tune(
    base_model_path: str | Path,
    items: Sequence[Item],
    labels: Sequence[str] | None = None,
    mode: str = "full",
    *,
    val_items: Sequence[Item] | None = None,
    train_config: TrainConfig | None = None,
    device: str | torch.device = "auto",
    name: str = "esernet-finetuned",
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    on_epoch: EpochCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fine-tune an existing model file on new data.

    ``mode="full"`` trains the whole network, ``"classifier"`` only the classifier (the
    pathways are frozen). ``labels``: the new label set (default: the base model's labels if
    they cover the data, else the sorted labels of the data). With a new label set the last
    classifier layer is replaced (new classes start from random weights); the feature
    normalisation of the base model is kept. Default settings: 20 epochs, lr 3e-4 (full) or
    1e-3 (classifier), patience 5.
    """
    if mode not in ("full", "classifier"):
        raise ModelError(f"mode must be 'full' or 'classifier', not {mode!r}.")
    base = load_model(base_model_path, "cpu")
    found = sorted({it.label for it in list(items) + list(val_items or [])})
    if labels is None:
        labels = base.labels if set(found) <= set(base.labels) else found
    labels = list(labels)
    if labels != base.labels:
        net = base.net
        old = net.classifier[-1]
        assert isinstance(old, torch.nn.Linear)  # ESERNet's classifier ends in a Linear (model.network)
        new = torch.nn.Linear(old.in_features, len(labels))
        with torch.no_grad():  # keep the weights of classes the base model already knew
            for j, lab in enumerate(labels):
                if lab in base.labels:
                    new.weight[j] = old.weight[base.labels.index(lab)]
                    new.bias[j] = old.bias[base.labels.index(lab)]
        net.classifier[-1] = new
        base.model_config = dataclasses.replace(base.model_config, n_classes=len(labels))
        net.cfg = base.model_config
        base.labels = labels
    tcfg = train_config or dataclasses.replace(
        base.train_config, epochs=20, lr=3e-4 if mode == "full" else 1e-3, patience=5, warmup_epochs=1
    )
    return train_model(
        base.model_config,
        items,
        val_items,
        labels=labels,
        train_config=tcfg,
        feature_config=base.feature_config,
        device=device,
        init=base,
        trainable="all" if mode == "full" else "classifier",
        cache_dir=cache_dir,
        name=name,
        progress=progress,
        cancel=cancel,
        on_epoch=on_epoch,
        log=log,
    )
