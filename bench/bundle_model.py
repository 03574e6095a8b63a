"""Train the bundled ESERNet on all of EmoDB and store the cross-validation figures in it.

    .venv/bin/python -m bench.bundle_model                # train (epochs from the SI folds) + attach
    .venv/bin/python -m bench.bundle_model --attach-only  # re-attach figures, weights unchanged

The epoch count is the median best epoch (early stopping on the validation speakers) of the
speaker-independent folds of the recipe in ``bench/out/esernet-spknorm-speaker-pairs/folds.csv``
(``--normalisation global``: ``esernet-speaker-pairs``); the LR
schedule is the cross-validation one (``TrainConfig.epochs``), stopped after that many epochs.
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
RUNS = [("esernet-spknorm", "speaker-pairs"), ("baseline-spknorm", "speaker-pairs"),
        ("st-spknorm", "speaker-pairs"), ("sformer-spknorm", "speaker-pairs"), ("st_cue-spknorm", "speaker-pairs"),
        ("esernet-spknorm", "random10"), ("baseline-spknorm", "random10"),
        ("esernet", "speaker-pairs"), ("baseline", "speaker-pairs"), ("st", "speaker-pairs"),
        ("sformer", "speaker-pairs"), ("st_cue", "speaker-pairs"), ("esernet", "random10"),
        ("baseline", "random10")]


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(open(path))) if path.is_file() else []


def figures(previous: dict | None = None) -> dict:
    ev: dict = {"note": "cross-validation figures of this training recipe (not of these weights, which saw all "
                        "of EmoDB), pooled over test folds; speaker-pairs = 5 folds of one male + one female "
                        "EmoDB speaker; random10 = random stratified 10 folds (speakers shared); -spknorm = speaker "
                        "normalisation (the recipe of these weights); early stopping on a validation pair of "
                        "training speakers; CPU"}
    for method, protocol in RUNS:
        rows = read(OUT / f"{method}-{protocol}" / "summary.csv")
        folds = read(OUT / f"{method}-{protocol}" / "folds.csv")
        if not rows:
            if previous and f"{method}/{protocol}" in previous:
                ev[f"{method}/{protocol}"] = previous[f"{method}/{protocol}"]
            continue
        ev[f"{method}/{protocol}"] = {
            "folds_done": len({r["fold"] for r in folds}),
            **{r["condition"]: {k: float(v) for k, v in r.items() if k not in ("condition",) and v != ""}
               for r in rows}}
    return ev


def best_epochs(recipe: str) -> list[int]:
    rows = read(OUT / f"{recipe}-speaker-pairs" / "folds.csv")
    return [int(r["best_epoch"]) for r in rows if r["condition"] == "clean"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="model/weights/esernet-emodb.safetensors")
    ap.add_argument("--attach-only", action="store_true")
    ap.add_argument("--epochs", type=int, help="override the epoch count from cross-validation")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--normalisation", default="speaker", choices=["global", "speaker"],
                    help="feature normalisation of the recipe (default: speaker; its epochs come from the "
                         "esernet-spknorm folds)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from esergui.paths import emodb_dir
    from model.config import FeatureConfig, ModelConfig, TrainConfig, recipe_name
    from model.data import EMODB_LABELS, emodb_items
    from model.io import load_model, save_model
    from model.train import train_model

    recipe = recipe_name("esernet", args.normalisation)
    if args.attach_only:
        bundle = load_model(args.out)
        eps = best_epochs(recipe)  # record what all finished SI folds say next to what was used
        cv = bundle.metadata.setdefault("training", {}).setdefault("epochs_from_cv", {})
        cv["si_best_epochs_all_folds"] = eps
        cv["median_all_folds"] = statistics.median(eps) if eps else None
    else:
        eps = best_epochs(recipe)
        n = args.epochs or (int(round(statistics.median(eps))) if eps else TrainConfig().epochs)
        tcfg = dataclasses.replace(TrainConfig(), stop_after=n)
        print(f"best epochs of the SI folds: {eps} -> training {n} epochs on all EmoDB", flush=True)
        t0 = time.time()
        res = train_model(ModelConfig(), emodb_items(emodb_dir()), None, labels=EMODB_LABELS, train_config=tcfg,
                          feature_config=FeatureConfig(normalisation=args.normalisation), device="cpu", cache_dir=".cache/audio", name="esernet-emodb",
                          log=lambda s: print(s, flush=True))
        bundle = res.bundle
        bundle.metadata["training"]["epochs_from_cv"] = {"si_best_epochs": eps, "median": n}
        print(f"trained in {time.time() - t0:.0f} s", flush=True)
    previous = None
    if Path(args.out).is_file():
        previous = load_model(args.out).metadata.get("evaluation")
    bundle.metadata["evaluation"] = figures(previous)
    save_model(bundle, args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
