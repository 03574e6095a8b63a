"""Training: :func:`train_model` (from scratch or from a bundle; fine-tuning a model file is
:func:`model.fine_tune.fine_tune`).

Data: lists of :class:`model.data.Item`. Each epoch draws random ``crop_s`` crops of the
training clips, augments the waveform (noise/babble at random SNR, gain, speed), computes
log-mel on the model's device, applies SpecAugment and a Mockingjay-style time mask for the
cue pathway, and minimises ``(1 - pi) * MSE + pi * CE`` (class-weighted CE). After each epoch
the validation items (whole utterances, chunked like at inference) give the validation loss,
accuracy and UA; the best epoch by validation UA is kept and training stops after
``patience`` epochs without improvement. Without validation items, the model of the last
epoch is kept (used for the bundled model, whose epoch count comes from cross-validation).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from model.augment import Augmenter, spec_augment
from model.bundle import ModelBundle
from model.config import FeatureConfig, ModelConfig, TrainConfig
from model.data import Item, check_items, label_counts, load_waveforms
from model.device import device_name, resolve_device
from model.errors import ModelError
from model.features import SpeakerStats, n_frames
from model.masking import span_mask
from model.metrics import compute_figures
from model.network import predict_logits
from model.normalising import clean_features, raw_features, speaker_keys, speaker_stats

Progress = Callable[[float, str], None]
#: ``on_epoch(epoch, train_loss, val_loss, val_accuracy, val_ua)``; val values are NaN without validation.
EpochCallback = Callable[[int, float, float, float, float], None]


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    val_ua: float
    seconds: float


@dataclass
class TrainResult:
    """The trained model (best validation epoch) and how training went."""

    bundle: ModelBundle
    history: list[EpochStats] = field(default_factory=list)
    best_epoch: int = 0
    cancelled: bool = False
    seconds: float = 0.0

    def save(self, path: str | Path) -> Path:
        from model.io import save_model

        return save_model(self.bundle, path)


class _Stop(Exception):
    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


def _check(cancel: Any) -> None:
    if cancel is not None:
        try:
            cancel.raise_if_cancelled()
        except Exception as exc:
            raise _Stop(exc) from exc


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def _crop(wav: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(wav) <= n:
        return wav
    start = int(rng.integers(0, len(wav) - n + 1))
    return wav[start : start + n]


def wave_batch(
    wavs: Sequence[np.ndarray],
    bundle: ModelBundle,
    device: torch.device,
    stats: Sequence[tuple[torch.Tensor, torch.Tensor] | None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded waveforms -> normalised log-mel ``(B, T, n_mels)`` and frame lengths ``(B,)``.

    ``stats``: per row ``(mean, std)`` ``(n_mels,)`` to standardise with (speaker
    normalisation), or ``None`` for the row's own statistics (of its real frames, shrunk
    like :class:`SpeakerStats`); without ``stats`` the stored global ones are used."""
    n = max(len(w) for w in wavs)
    x = torch.zeros(len(wavs), n)
    for i, w in enumerate(wavs):
        x[i, : len(w)] = torch.from_numpy(np.asarray(w, dtype=np.float32))
    raw = bundle.features.raw(x.to(device))
    lengths = torch.tensor([n_frames(len(w), bundle.feature_config) for w in wavs], device=device).clamp_max(
        raw.shape[1]
    )
    if stats is None:
        return bundle.features.normalise(raw), lengths
    rows = []
    for i, st in enumerate(stats):
        if st is None:
            own = SpeakerStats(bundle.features)
            own.add(0, raw[i, : int(lengths[i])])
            st = own.get(0)
        rows.append(st)
    mean = torch.stack([m for m, _ in rows])[:, None, :].to(device)
    std = torch.stack([s for _, s in rows])[:, None, :].to(device)
    return bundle.features.normalise(raw, mean, std), lengths


def _lr_lambda(cfg: TrainConfig, steps_per_epoch: int) -> Callable[[int], float]:
    warm = max(1, cfg.warmup_epochs * steps_per_epoch)
    total = max(warm + 1, cfg.epochs * steps_per_epoch)

    def f(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        if cfg.schedule == "constant":
            return 1.0
        prog = min(1.0, (step - warm) / (total - warm))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * prog))

    return f


def _optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    raise ModelError(f"Unknown optimizer {cfg.optimizer!r} (adamw or sgd).")


def validate(
    bundle: ModelBundle, feats: Sequence[torch.Tensor], y: Sequence[int], class_weights: torch.Tensor | None = None
) -> tuple[float, float, float]:
    """``(loss, accuracy, UA)`` of whole utterances (chunked like at inference)."""
    logp = predict_logits(bundle.net, list(feats), bundle.chunk_frames, device=bundle.device)
    yt = torch.tensor(list(y))
    loss = float(F.nll_loss(logp, yt, weight=None if class_weights is None else class_weights.cpu()))
    fig = compute_figures(yt.tolist(), logp.argmax(1).tolist(), bundle.labels)
    return loss, fig.wa, fig.ua


def train_model(
    config: ModelConfig,
    train_items: Sequence[Item],
    val_items: Sequence[Item] | None = None,
    *,
    labels: Sequence[str] | None = None,
    train_config: TrainConfig | None = None,
    feature_config: FeatureConfig | None = None,
    device: str | torch.device = "auto",
    init: ModelBundle | None = None,
    trainable: str = "all",
    audio: Mapping[str, np.ndarray] | None = None,
    cache_dir: str | Path | None = None,
    name: str = "esernet",
    progress: Progress | None = None,
    cancel: Any = None,
    on_epoch: EpochCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train a model; returns the best epoch's model (by validation UA) or the last one.

    ``config``: the network (``n_classes`` is set from the label list). ``labels``: class order
    (default: sorted labels of the data). ``init``: start from this bundle's weights and
    normalisation (fine-tuning); ``trainable``: ``"all"`` or ``"classifier"`` (the rest is
    frozen). ``audio``: optional ``{path: waveform}`` already decoded (16 kHz float32).
    ``cancel.raise_if_cancelled()`` is polled every batch; on cancellation the best model so
    far is returned with ``cancelled=True`` (the exception propagates if no epoch finished).
    """
    t0 = time.time()
    tcfg = train_config or TrainConfig()
    val_items = list(val_items or [])
    labels = check_items(list(train_items) + val_items, labels)
    if init is not None:
        labels = list(labels)
    config = dataclasses.replace(config, n_classes=len(labels))
    if init is None and feature_config is not None:  # the network's input width follows the features
        config = dataclasses.replace(config, n_mels=feature_config.n_channels)
    dev = resolve_device(device)
    seed_everything(tcfg.seed)
    rng = np.random.default_rng(tcfg.seed)
    gen = torch.Generator().manual_seed(tcfg.seed)
    say = log or (lambda s: None)

    def report(frac: float, msg: str) -> None:
        if progress is not None:
            progress(min(1.0, max(0.0, frac)), msg)

    # ---- audio
    needed = [it for it in list(train_items) + val_items if audio is None or it.path not in audio]
    decoded = dict(audio or {})
    if needed:
        wavs = load_waveforms(needed, cache_dir, progress=lambda f, m: report(0.05 * f, m), cancel=cancel)
        decoded.update({it.path: w for it, w in zip(needed, wavs)})
    train_wavs = [decoded[it.path] for it in train_items]
    y_train = np.array([labels.index(it.label) for it in train_items])
    y_val = [labels.index(it.label) for it in val_items]

    # ---- model
    train_raw: list[torch.Tensor] | None = None
    if init is None:
        bundle = ModelBundle.create(config, feature_config or FeatureConfig(n_mels=config.n_mels), labels, tcfg)
        bundle.to(dev)
        train_raw = raw_features(train_wavs, bundle)
        bundle.features.fit_normalisation(train_raw)
    else:
        bundle = init
        bundle.train_config = tcfg
        bundle.to(dev)
    bundle.metadata = {"name": name}
    net = bundle.net
    if trainable == "classifier":
        for n_, p in net.named_parameters():
            p.requires_grad_(n_.startswith("classifier."))
    elif trainable != "all":
        raise ModelError(f"trainable must be 'all' or 'classifier', not {trainable!r}.")
    params = [p for p in net.parameters() if p.requires_grad]
    opt = _optimizer(params, tcfg)
    steps = max(1, math.ceil(len(train_items) / tcfg.batch_size))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(tcfg, steps))
    counts = np.bincount(y_train, minlength=len(labels)).astype(float)
    cw = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / len(labels), 0.0)
    class_weights = torch.tensor(cw / cw[counts > 0].mean(), dtype=torch.float32, device=dev)
    val_feats = (
        clean_features([decoded[it.path] for it in val_items], bundle, keys=speaker_keys(val_items))
        if val_items
        else []
    )
    train_keys = speaker_keys(train_items)
    train_stats = None
    if bundle.feature_config.speaker_normalised:  # each training speaker's statistics, from their clean clips
        train_stats = speaker_stats(
            train_raw if train_raw is not None else raw_features(train_wavs, bundle), train_keys, bundle
        )
    train_raw = None
    pool = [w for w in train_wavs]  # babble from the training speakers only
    augment = Augmenter(tcfg, pool, rng)
    crop = int(tcfg.crop_s * bundle.feature_config.sample_rate)

    history: list[EpochStats] = []
    best_state = copy.deepcopy(net.state_dict())
    best_key = (-1.0, float("-inf"))
    best_epoch = 0
    cancelled = False
    say(
        f"training {config.variant} on {len(train_items)} clips ({len(val_items)} for validation), "
        f"{steps} steps/epoch on {dev}"
    )
    try:
        for epoch in range(1, tcfg.epochs + 1):
            te = time.time()
            net.train()
            order = rng.permutation(len(train_items))
            total, count = 0.0, 0
            for b in range(steps):
                _check(cancel)
                idx = order[b * tcfg.batch_size : (b + 1) * tcfg.batch_size]
                if len(idx) == 0:
                    continue
                wavs = [augment(_crop(train_wavs[i], crop, rng)) for i in idx]
                rows = None
                if train_stats is not None:  # speaker statistics, or now and then the crop's own
                    rows = [
                        None if rng.random() < tcfg.p_utterance_stats else train_stats.get(train_keys[i]) for i in idx
                    ]
                with torch.no_grad():
                    clean, lengths = wave_batch(wavs, bundle, dev, rows)
                    feats = spec_augment(clean, lengths, tcfg, gen)  # recovery target: before SpecAugment
                tmask = None
                if config.has_cue:
                    tmask = span_mask(lengths.cpu(), feats.shape[1], config.mask_rate, config.mask_span, gen).to(dev)
                yb = torch.as_tensor(y_train[idx], device=dev)
                out = net(feats, lengths, tmask)
                loss, parts = net.loss(out, clean, lengths, yb, tmask, tcfg.label_smoothing, class_weights)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 5.0)
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
                count += len(idx)
                report(
                    0.05 + 0.95 * ((epoch - 1) + (b + 1) / steps) / tcfg.epochs,
                    f"epoch {epoch}/{tcfg.epochs}, batch {b + 1}/{steps}",
                )
            train_loss = total / max(count, 1)
            if val_items:
                _check(cancel)
                vl, va, vua = validate(bundle, val_feats, y_val, class_weights)
            else:
                vl = va = vua = float("nan")
            stats = EpochStats(epoch, train_loss, vl, va, vua, time.time() - te)
            history.append(stats)
            key = (vua, -vl) if val_items else (float(epoch), 0.0)
            if key > best_key:
                best_key, best_epoch = key, epoch
                best_state = copy.deepcopy(net.state_dict())
            say(
                f"epoch {epoch}: train {train_loss:.3f} val loss {vl:.3f} acc {va:.3f} UA {vua:.3f} "
                f"({stats.seconds:.1f} s){' *' if best_epoch == epoch else ''}"
            )
            if on_epoch is not None:
                on_epoch(epoch, train_loss, vl, va, vua)
            if tcfg.stop_after and epoch >= tcfg.stop_after:
                break
            if val_items and epoch - best_epoch >= tcfg.patience:
                say(f"early stop: no validation UA gain for {tcfg.patience} epochs")
                break
    except _Stop as stop:
        if not history:
            raise stop.original from None
        cancelled = True
        say("cancelled: keeping the best model so far")
    net.load_state_dict(best_state)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(True)
    seconds = time.time() - t0
    bundle.metadata["training"] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "variant": config.variant,
        "n_train": len(train_items),
        "n_val": len(val_items),
        "train_label_counts": label_counts(train_items),
        "train_speakers": sorted({it.speaker for it in train_items if it.speaker}),
        "val_speakers": sorted({it.speaker for it in val_items if it.speaker}),
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "cancelled": cancelled,
        "trainable": trainable,
        "fine_tuned_from": (init.name if init is not None else None),
        "seconds": round(seconds, 1),
        "device": device_name(dev),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "history": [dataclasses.asdict(h) for h in history],
    }
    report(1.0, "training finished" if not cancelled else "training cancelled")
    return TrainResult(bundle, history, best_epoch, cancelled, seconds)
