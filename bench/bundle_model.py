"""Train the bundled ESERNet on all of EmoDB and store the cross-validation figures in it.

    .venv/bin/python -m bench.bundle_model                # train (epochs from the SI folds) + attach
    .venv/bin/python -m bench.bundle_model --attach-only  # re-attach figures, weights unchanged

The epoch count is the median best epoch (chosen on held-out *training* speakers) of the
speaker-independent folds of one seed of the recipe (``--cv-seed``, default 0), read from the
committed fold rows ``bench/results/cv_<recipe>-speaker-pairs-s<seed>_folds.csv`` (recipe 1:
``cv_<recipe>-speaker-pairs_folds.csv``), so a fresh clone trains the same model; for the second
recipe the confidence temperature is the median of those folds' temperatures. Without those rows
the command stops (give ``--epochs`` to train anyway); the LR schedule is the cross-validation one (``TrainConfig.epochs``),
stopped after that many epochs.
Figures come from ``bench/out/<method>-<protocol>/summary.csv`` where they exist, else from the
evaluation figures already stored in the file being replaced (runs of earlier sessions).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import time
from pathlib import Path

import torch

OUT = Path("bench/out")
RESULTS = Path("bench/results")
RUNS = [
    ("esernet2", "speaker-pairs-s0"),
    ("esernet2", "speaker-pairs-s1"),
    ("esernet2", "speaker-pairs-s2"),
    ("esernet2", "random10-s0"),
    ("esernet2-baseline", "speaker-pairs"),
    ("esernet2-baseline", "random10"),
    ("esernet2-st", "speaker-pairs-s0"),
    ("esernet2-sformer", "speaker-pairs-s0"),
    ("esernet2-st_cue", "speaker-pairs-s0"),
    ("esernet2-noprosody", "speaker-pairs-s0"),
    ("esernet2-noise", "speaker-pairs-s0"),
    ("esernet-spknorm", "speaker-pairs"),
    ("baseline-spknorm", "speaker-pairs"),
    ("st-spknorm", "speaker-pairs"),
    ("sformer-spknorm", "speaker-pairs"),
    ("st_cue-spknorm", "speaker-pairs"),
    ("esernet-spknorm", "random10"),
    ("baseline-spknorm", "random10"),
    ("esernet", "speaker-pairs"),
    ("baseline", "speaker-pairs"),
    ("st", "speaker-pairs"),
    ("sformer", "speaker-pairs"),
    ("st_cue", "speaker-pairs"),
    ("esernet", "random10"),
    ("baseline", "random10"),
]


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(open(path))) if path.is_file() else []


def figures(previous: dict | None = None) -> dict:
    ev: dict = {
        "note": "cross-validation figures of this training recipe (not of these weights, which saw all "
        "of EmoDB), pooled over test folds; speaker-pairs = 5 folds of one male + one female "
        "EmoDB speaker; random10 = random stratified 10 folds (speakers shared); -sN = training "
        "seed N; esernet2 = the second recipe (model/recipes.py, nested protocol: epochs and "
        "temperature chosen on held-out training speakers, then all training speakers); "
        "-spknorm = the first recipe with speaker normalisation"
    }
    for method, protocol in RUNS:
        rows = read(OUT / f"{method}-{protocol}" / "summary.csv")
        folds = read(OUT / f"{method}-{protocol}" / "folds.csv")
        if not rows:
            if previous and f"{method}/{protocol}" in previous:
                ev[f"{method}/{protocol}"] = previous[f"{method}/{protocol}"]
            continue
        ev[f"{method}/{protocol}"] = {
            "folds_done": len({r["fold"] for r in folds}),
            **{
                r["condition"]: {k: float(v) for k, v in r.items() if k not in ("condition",) and v != ""} for r in rows
            },
        }
    return ev


def folds_file(recipe: str, seed: int) -> Path:
    """The committed fold rows of the recipe's speaker-independent run of that seed."""
    seeded = RESULTS / f"cv_{recipe}-speaker-pairs-s{seed}_folds.csv"
    return seeded if seeded.is_file() else RESULTS / f"cv_{recipe}-speaker-pairs_folds.csv"


def fold_rows(recipe: str, seed: int) -> list[dict[str, str]]:
    """Clean-condition fold rows of the recipe's speaker-independent run of one seed."""
    return [r for r in read(folds_file(recipe, seed)) if r["condition"] == "clean"]


def best_epochs(recipe: str, seed: int) -> list[int]:
    return [int(r["best_epoch"]) for r in fold_rows(recipe, seed) if r.get("best_epoch")]


def temperatures(recipe: str, seed: int) -> list[float]:
    return [float(r["temperature"]) for r in fold_rows(recipe, seed) if r.get("temperature")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="model/weights/esernet-emodb.safetensors")
    ap.add_argument("--attach-only", action="store_true")
    ap.add_argument("--epochs", type=int, help="override the epoch count from cross-validation")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--cv-seed", type=int, default=0, help="the cross-validation seed whose folds give epochs and temperature"
    )
    ap.add_argument(
        "--recipe",
        default="esernet2",
        choices=["esernet2", "esernet-spknorm", "esernet"],
        help="training recipe (model/recipes.py; default esernet2): its epochs (and temperature) are "
        "the medians of its speaker-independent folds' inner-validation choices",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from esergui.paths import emodb_dir
    from model.config import FeatureConfig, ModelConfig, TrainConfig
    from model.data import EMODB_LABELS, emodb_items
    from model.io import load_model, save_model
    from model.recipes import RECIPES
    from model.train import train_model

    recipe = args.recipe
    if recipe in RECIPES:
        fcfg, mcfg, base_tcfg = RECIPES[recipe].features, RECIPES[recipe].network, RECIPES[recipe].training
    else:  # the first recipe with one global normalisation
        fcfg, mcfg, base_tcfg = FeatureConfig(), ModelConfig(), TrainConfig()
    if args.attach_only:
        bundle = load_model(args.out)
        eps = best_epochs(recipe, args.cv_seed)  # record what all finished SI folds say next to what was used
        cv = bundle.metadata.setdefault("training", {}).setdefault("epochs_from_cv", {})
        cv["si_best_epochs_all_folds"] = eps
        cv["median_all_folds"] = statistics.median(eps) if eps else None
    else:
        eps = best_epochs(recipe, args.cv_seed)
        if not eps and not args.epochs:
            print(f"bundle_model: no fold rows in {folds_file(recipe, args.cv_seed)}; give --epochs", flush=True)
            return 2
        n = args.epochs or int(round(statistics.median(eps)))
        tcfg = dataclasses.replace(base_tcfg, stop_after=n)
        print(f"best epochs of the SI folds: {eps} -> training {n} epochs on all EmoDB", flush=True)
        t0 = time.time()
        res = train_model(
            mcfg,
            emodb_items(emodb_dir()),
            None,
            labels=EMODB_LABELS,
            train_config=tcfg,
            feature_config=fcfg,
            device="cpu",
            cache_dir=".cache/audio",
            name="esernet-emodb",
            log=lambda s: print(s, flush=True),
        )
        bundle = res.bundle
        bundle.metadata["training"]["epochs_from_cv"] = {"si_best_epochs": eps, "median": n, "seed": args.cv_seed}
        temps = temperatures(recipe, args.cv_seed)
        if temps:  # fitted per fold on held-out training speakers (model/calibration.py)
            bundle.metadata["temperature"] = round(statistics.median(temps), 4)
            bundle.metadata["training"]["temperature_from_cv"] = {
                "fold_temperatures": temps,
                "median": bundle.metadata["temperature"],
            }
        print(f"trained in {time.time() - t0:.0f} s", flush=True)
    bundle.metadata["recipe"] = recipe
    previous = None
    if Path(args.out).is_file():
        previous = load_model(args.out).metadata.get("evaluation")
    bundle.metadata["evaluation"] = figures(previous)
    save_model(bundle, args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
