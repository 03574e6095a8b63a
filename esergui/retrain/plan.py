"""Settings and time: :class:`RetrainSettings` (fine-tune or from scratch, epochs, learning rate,
augmentation, device), the validation split, and a measured time estimate
(:func:`measure_speed`, :func:`estimate_seconds`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from esergui.progress import CancelToken, ProgressCallback
from esergui.retrain.sources import RetrainError
from model.config import ModelConfig, TrainConfig
from model.data import Item, load_waveforms, validation_split

if TYPE_CHECKING:  # heavy imports (torch) stay inside the functions that need them
    from model.train import TrainResult


EpochCallback = Callable[[int, float, float, float, float], None]
#: Most epochs by start: fine-tuning converges in a few; from scratch needs many more.
DEFAULT_EPOCHS = {"finetune": 15, "scratch": 40}


@dataclass
class RetrainSettings:
    """How to train. ``start``: ``"finetune"`` (from the starting model) or ``"scratch"``
    (then use ``epochs=DEFAULT_EPOCHS["scratch"]``);
    ``mode`` (fine-tune only): ``"full"`` network or ``"classifier"`` only; ``lr``: ``None``
    = the default for the start/mode (3e-4 full fine-tune, 1e-3 classifier or scratch);
    ``split``: validation on held-out ``"speaker"``\\ s (falls back to random without
    speakers) or ``"random"`` (stratified 15 %); ``device``: ``auto``/``cpu``/``cuda``/``mps``."""

    start: str = "finetune"
    mode: str = "full"
    epochs: int = DEFAULT_EPOCHS["finetune"]
    lr: float | None = None
    augment: bool = True
    split: str = "speaker"
    device: str = "auto"
    batch_size: int = 16
    patience: int = 5
    seed: int = 0

    @property
    def learning_rate(self) -> float:
        if self.lr is not None:
            return float(self.lr)
        return 3e-4 if self.start == "finetune" and self.mode == "full" else 1e-3

    @property
    def trainable(self) -> str:
        return "classifier" if self.start == "finetune" and self.mode == "classifier" else "all"

    def train_config(self, base: Any = None) -> Any:
        """The :class:`model.config.TrainConfig` (from ``base``'s when fine-tuning)."""
        cfg = base if base is not None else TrainConfig()
        cfg = dataclasses.replace(
            cfg,
            epochs=int(self.epochs),
            lr=self.learning_rate,
            patience=int(self.patience),
            warmup_epochs=1 if self.start == "finetune" else min(cfg.warmup_epochs, 2),
            batch_size=int(self.batch_size),
            seed=int(self.seed),
            stop_after=0,
        )
        if not self.augment:
            cfg = dataclasses.replace(cfg, p_noise=0.0, p_gain=0.0, p_speed=0.0, spec_time_masks=0, spec_freq_masks=0)
        return cfg


def available_devices() -> list[str]:
    """``auto`` and ``cpu``, plus the accelerator that ``auto`` picks (``cuda`` or ``mps``) where
    there is one: the same choice as :func:`model.device.resolve_device`."""
    from model.device import resolve_device  # imports torch

    best = resolve_device("auto").type
    return ["auto", "cpu"] + ([best] if best != "cpu" else [])


def split_items(items: Sequence[Item], how: str = "speaker", seed: int = 0) -> tuple[list[Item], list[Item]]:
    """(train, validation): by ``speaker`` (a held-out speaker pair, see
    :func:`model.data.validation_split`; random without speaker names) or ``random``
    (stratified 15 %). Raises :class:`RetrainError` when either side would be unusable."""
    items = list(items)
    if how not in ("speaker", "random"):
        raise RetrainError(f"Unknown validation split {how!r} (speaker or random).")
    source = items if how == "speaker" else [dataclasses.replace(it, speaker=None) for it in items]
    tr, va = validation_split(source, list(range(len(items))), seed=seed)
    train, val = [items[i] for i in tr], [items[i] for i in va]
    if not val:
        raise RetrainError("Too little data to keep any clips back for validation; add clips.")
    if len({it.label for it in train}) < 2:
        raise RetrainError("After holding clips back for validation, fewer than two labels are left to train on.")
    return train, val


def describe_split(train: Sequence[Item], val: Sequence[Item]) -> str:
    """``"train 438 clips (8 speakers), validation 97 clips (speakers 03, 08)"``."""

    def who(items: Sequence[Item]) -> str:
        spk = sorted({it.speaker for it in items if it.speaker})
        if not spk:
            return "speakers unknown"
        return f"speakers {', '.join(spk)}" if len(spk) <= 4 else f"{len(spk)} speakers"

    return f"train {len(train)} clips ({who(train)}), validation {len(val)} clips ({who(val)})"


@dataclass(frozen=True)
class SpeedMeasurement:
    """Measured on this machine: seconds per training clip-epoch (augmentation, forward,
    backward, update) and per validation clip (inference), with the device and CPU threads."""

    train_s_per_clip: float
    val_s_per_clip: float
    device: str
    threads: int


def measure_speed(
    items: Sequence[Item],
    labels: Sequence[str],
    settings: RetrainSettings,
    base_model: str | Path | None,
    cache_dir: str | Path | None = None,
    cancel: CancelToken | None = None,
    sample: int = 32,
) -> SpeedMeasurement:
    """Time two real training epochs on up to ``sample`` clips (the second epoch, without
    warm-up costs, is used) and inference on up to 16 clips, with the same network, mode and
    device as the real run. Takes a few seconds."""
    import torch  # heavy: imported only when a retraining step needs it

    from model.device import device_name, resolve_device
    from model.evaluate import predict_waveforms

    rng = np.random.default_rng(settings.seed)
    items = list(items)
    picked = [items[i] for i in sorted(rng.choice(len(items), min(sample, len(items)), replace=False))]
    if len({it.label for it in picked}) < 2:  # the trainer needs two classes
        picked = picked + [next(it for it in items if it.label != picked[0].label)]
    probe = dataclasses.replace(settings, epochs=2, patience=99)
    res = train_with_settings(
        picked, None, list(labels), probe, base_model, cache_dir, None, cancel, None, None, "speed-probe"
    )
    train_s = res.history[-1].seconds / len(picked)
    wavs = load_waveforms(picked[:16], cache_dir)
    t0 = time.perf_counter()
    predict_waveforms(res.bundle, wavs)
    val_s = (time.perf_counter() - t0) / len(wavs)
    return SpeedMeasurement(train_s, val_s, device_name(resolve_device(settings.device)), torch.get_num_threads())


def estimate_seconds(n_train: int, n_val: int, epochs: int, speed: SpeedMeasurement) -> float:
    """Upper estimate of a run: every epoch (early stopping can end it sooner) plus the
    validation after each epoch and the two final evaluations."""
    return (
        epochs * (n_train * speed.train_s_per_clip + n_val * speed.val_s_per_clip)
        + 2 * n_val * speed.val_s_per_clip
        + 3.0
    )


def train_with_settings(
    train: list[Item],
    val: list[Item] | None,
    labels: list[str],
    settings: RetrainSettings,
    base_model: str | Path | None,
    cache_dir: str | Path | None,
    progress: ProgressCallback | None,
    cancel: Any,
    on_epoch: EpochCallback | None,
    log: Callable[[str], None] | None,
    name: str,
) -> TrainResult:
    """Train with ``settings``: fine-tune ``base_model`` or train from scratch (``model.train``)."""
    from model.fine_tune import fine_tune
    from model.io import read_model_file  # imports torch
    from model.train import train_model

    if settings.start == "finetune":
        if base_model is None:
            raise RetrainError("Fine-tuning needs a starting model; choose one or train from scratch.")
        meta, _ = read_model_file(base_model)
        tcfg = settings.train_config(TrainConfig.from_dict(meta.get("train_config", {})))
        return fine_tune(
            base_model,
            train,
            labels,
            settings.mode,
            val_items=val,
            train_config=tcfg,
            device=settings.device,
            name=name,
            cache_dir=cache_dir,
            progress=progress,
            cancel=cancel,
            on_epoch=on_epoch,
            log=log,
        )
    if settings.start != "scratch":
        raise RetrainError(f"Unknown start {settings.start!r} (finetune or scratch).")
    return train_model(
        ModelConfig(),
        train,
        val,
        labels=labels,
        train_config=settings.train_config(),
        device=settings.device,
        cache_dir=cache_dir,
        name=name,
        progress=progress,
        cancel=cancel,
        on_epoch=on_epoch,
        log=log,
    )
