"""``esergui evaluate``: cross-validate ESERNet (or an ablation variant, or the eGeMAPS+SVM
baseline) on a labelled data set, or score one model file on it."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

NAME = "evaluate"
HELP = "cross-validate ESERNet / a variant / the eGeMAPS+SVM baseline, or score a model file"


def default_cache() -> Path:
    """``$ESER_CACHE``, else ``.cache`` in a source checkout, else ``~/.cache/eser-studio``."""
    from esergui.paths import PROJECT_DIR

    env = os.environ.get("ESER_CACHE")
    if env:
        return Path(env)
    if (PROJECT_DIR / "pyproject.toml").is_file():
        return PROJECT_DIR / ".cache"
    return Path.home() / ".cache" / "eser-studio"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data", help="EmoDB folder, IEMOCAP release folder, CSV (file,label[,speaker]) or folder per label"
    )
    parser.add_argument("--model", metavar="FILE", help="score this model file on DATA instead of cross-validating")
    parser.add_argument(
        "--protocol",
        default="speaker-pairs",
        choices=["speaker-pairs", "loso", "random10", "sessions"],
        help="folds (default: speaker-pairs, 5 folds of one male + one female speaker)",
    )
    parser.add_argument(
        "--method",
        default="esernet",
        choices=["esernet", "st", "sformer", "st_cue", "baseline"],
        help="network variant or the baseline (default: esernet)",
    )
    parser.add_argument("--out", metavar="DIR", help="results folder (default: bench/out/<method>-<protocol>)")
    parser.add_argument("--epochs", type=int, help="most epochs per fold (default 30, early stopping)")
    parser.add_argument(
        "--folds", help="comma-separated fold numbers to run (default: all; finished folds are skipped)"
    )
    parser.add_argument(
        "--robustness", action="store_true", help="also test with babble and room noise at 20, 10 and 5 dB SNR"
    )
    parser.add_argument(
        "--normalisation",
        default="global",
        choices=["global", "speaker"],
        help="feature normalisation: one global mean/std (default) or per speaker "
        "(each speaker's own statistics; for the baseline, functionals standardised per speaker)",
    )
    parser.add_argument(
        "--recipe",
        choices=["esernet-spknorm", "esernet2", "esernet2-noise"],
        help="a named recipe (model/recipes.py): its features, network, training settings and "
        "protocol (esernet2: nested, all training speakers); overrides --normalisation",
    )
    parser.add_argument(
        "--no-prosody", action="store_true", help="with --recipe: switch the prosody channels off (ablation)"
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default: cpu)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--cache", metavar="DIR", help="decoded-audio/feature cache (default: .cache)")


def run(args: argparse.Namespace) -> int:
    import torch

    from model.config import FeatureConfig, ModelConfig, TrainConfig, recipe_name
    from model.data import EMODB_LABELS, load_items
    from model.evaluate import cross_validate, evaluate
    from model.recipes import get_recipe

    if args.threads:
        torch.set_num_threads(args.threads)
    items = load_items(args.data)
    cache = Path(args.cache) if args.cache else default_cache() / "audio"
    if args.model:
        fig = evaluate(args.model, items, device=args.device, cache_dir=cache)
        print(f"n={fig.n} WA={100 * fig.wa:.2f} UA={100 * fig.ua:.2f} macro-F1={100 * fig.macro_f1:.2f}")
        for lab, r in fig.recall.items():
            print(f"  recall {lab}: {100 * r:.1f}")
        return 0
    found = {it.label for it in items}
    labels = EMODB_LABELS if found <= set(EMODB_LABELS) and len(found) == 7 else sorted(found)
    if args.recipe:
        recipe = get_recipe(args.recipe)
        if args.no_prosody:
            recipe = recipe.with_prosody(False)
        stem = recipe.run_name(args.method, prosody=not args.no_prosody) + f"-{args.protocol}"
        fcfg, mcfg, tcfg, nested = recipe.features, recipe.network, recipe.training, recipe.nested
    else:
        stem = f"{recipe_name(args.method, args.normalisation)}-{args.protocol}"
        fcfg, mcfg, tcfg, nested = FeatureConfig(normalisation=args.normalisation), ModelConfig(), TrainConfig(), False
    if args.seed:
        stem += f"-s{args.seed}"
    tcfg = dataclasses.replace(tcfg, seed=args.seed, **({"epochs": args.epochs} if args.epochs else {}))
    out = Path(args.out) if args.out else Path("bench/out") / stem
    robust = [(k, s) for k in ("babble", "room") for s in (20, 10, 5)] if args.robustness else []
    folds = [int(f) for f in args.folds.split(",")] if args.folds else None
    result = cross_validate(
        items,
        args.protocol,
        args.method,
        out,
        labels=labels,
        model_config=mcfg,
        train_config=tcfg,
        feature_config=fcfg,
        robustness=robust,
        folds=folds,
        nested=nested,
        device=args.device,
        cache_dir=cache,
        log=lambda s: print(s, flush=True),
    )
    for cond, fig in result.items():
        print(f"{cond}: n={fig.n} WA={100 * fig.wa:.2f} UA={100 * fig.ua:.2f} macro-F1={100 * fig.macro_f1:.2f}")
    print(f"tables: {out / 'summary.md'}")
    return 0
