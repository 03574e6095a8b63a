"""``esergui train DATA --out MODEL``: train ESERNet (or a variant) or fine-tune a model file."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "train"
HELP = "train ESERNet on labelled audio (CSV, EmoDB or IEMOCAP folder, folder per label), or fine-tune a model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data", help="CSV (file,label[,speaker]), EmoDB folder, IEMOCAP release folder or folder per label"
    )
    parser.add_argument("--out", required=True, metavar="MODEL", help="model file to write (.safetensors)")
    parser.add_argument("--variant", default="esernet", choices=["esernet", "st", "sformer", "st_cue"])
    parser.add_argument(
        "--fine-tune", metavar="BASE", help="start from this model file ('bundled' for the bundled model)"
    )
    parser.add_argument(
        "--mode", default="full", choices=["full", "classifier"], help="fine-tuning: whole network or classifier only"
    )
    parser.add_argument("--epochs", type=int, help="most epochs (default 30; fine-tuning 20)")
    parser.add_argument(
        "--fixed-epochs",
        type=int,
        metavar="N",
        help="no validation split: train on all data for N epochs (schedule of --epochs)",
    )
    parser.add_argument("--lr", type=float, help="learning rate (default 1e-3; fine-tuning 3e-4 / 1e-3)")
    parser.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", help="model name stored in the file (default: the file's stem)")
    parser.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda or mps")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from esergui.commands.evaluate import default_cache
    from model.config import ModelConfig, TrainConfig
    from model.data import EMODB_LABELS, load_items, validation_split
    from model.fine_tune import fine_tune
    from model.train import train_model

    if args.threads:
        torch.set_num_threads(args.threads)
    items = load_items(args.data)
    found = {it.label for it in items}
    labels = EMODB_LABELS if found == set(EMODB_LABELS) else sorted(found)
    if args.fixed_epochs:
        train, val = items, []
    else:
        tr, va = validation_split(items, list(range(len(items))), seed=args.seed)
        train, val = [items[i] for i in tr], [items[i] for i in va]
    name = args.name or Path(args.out).stem
    changes = {k: v for k, v in {"epochs": args.epochs, "lr": args.lr}.items() if v is not None}
    changes.update(optimizer=args.optimizer, seed=args.seed)
    if args.fixed_epochs:
        changes.update(stop_after=args.fixed_epochs, epochs=max(args.fixed_epochs, args.epochs or 0))

    def log(msg: str) -> None:
        print(msg, flush=True)

    cache = default_cache() / "audio"
    if args.fine_tune:
        from model.inference import bundled_model_path
        from model.io import load_model

        base = bundled_model_path() if args.fine_tune == "bundled" else Path(args.fine_tune)
        base_cfg = load_model(base).train_config
        tcfg = dataclasses.replace(
            base_cfg, epochs=20, lr=3e-4 if args.mode == "full" else 1e-3, patience=5, warmup_epochs=1
        )
        tcfg = dataclasses.replace(tcfg, **changes)
        res = fine_tune(
            base,
            train,
            None if found <= set(load_model(base).labels) else sorted(found),
            args.mode,
            val_items=val,
            train_config=tcfg,
            device=args.device,
            name=name,
            cache_dir=cache,
            log=log,
        )
    else:
        tcfg = dataclasses.replace(TrainConfig(), **changes)
        res = train_model(
            ModelConfig(variant=args.variant),
            train,
            val,
            labels=labels,
            train_config=tcfg,
            device=args.device,
            cache_dir=cache,
            name=name,
            log=log,
        )
    res.save(args.out)
    print(f"wrote {args.out} (best epoch {res.best_epoch}, {res.seconds:.0f} s)")
    return 0
