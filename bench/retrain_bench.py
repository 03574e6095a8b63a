"""Retraining benchmark: wall time of the wizard's default fine-tune, and the accuracy change a
fine-tune brings on speakers it never heard.

    nice -n 5 .venv/bin/python -m bench.retrain_bench            # both parts, prints Markdown
    nice -n 5 .venv/bin/python -m bench.retrain_bench --part time --n 60 --epochs 2   # quick check

Part ``time``: the wizard's default settings (:class:`esergui.retrain.RetrainSettings`: fine-tune
the whole bundled model, at most 15 epochs, early stopping on held-out speakers) on ``--n``
(500) EmoDB utterances drawn at random (seed 0), run through :func:`esergui.retrain.run_retraining`
exactly as the wizard runs it (starting-model scoring + training + final scoring). Its validation
figures are reported but are *not* a held-out measure: the bundled model was trained on every
EmoDB speaker.

Part ``adapt``: the speaker-independent cross-validation model of fold 0
(``bench/out/esernet-speaker-pairs/models/fold0.safetensors``, trained without speakers 03 and
08) is fine-tuned with the same default settings on the other eight speakers' clips with
classroom-like babble mixed in at 10 dB SNR (a new recording condition, made from those speakers'
own speech), and both models are scored on speakers 03 and 08 with babble from the training
speakers at 10 dB (and clean). Neither model ever heard speakers 03 or 08.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

OUT = Path("bench/out/retrain")
FOLD_MODEL = Path("bench/out/esernet-speaker-pairs/models/fold0.safetensors")
TEST_SPEAKERS = ("03", "08")


def _cpu() -> float:
    """CPU seconds (user + system) of this process so far, all threads."""
    t = os.times()
    return t.user + t.system


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def part_time(n: int, epochs: int | None, cache: Path) -> list[str]:
    from esergui import retrain as R
    from esergui.models import bundled_model_path
    from esergui.paths import emodb_dir
    from model.data import emodb_items

    base = bundled_model_path()
    if base is None:
        return ["part time: no bundled model installed (model/weights/ is empty); not run."]
    items = emodb_items(emodb_dir())
    rng = np.random.default_rng(0)
    items = [items[i] for i in sorted(rng.choice(len(items), min(n, len(items)), replace=False))]
    settings = R.RetrainSettings() if epochs is None else R.RetrainSettings(epochs=epochs)
    t0 = time.perf_counter()
    rep = R.inspect_items(items, cache, source="emodb")
    labels = R.LabelMap.identity(list(rep.label_counts)).label_list(None)
    from model.io import read_model_file

    meta, _ = read_model_file(base)
    plan = R.RetrainPlan(
        rep.usable,
        list(meta["labels"]) if set(labels) <= set(meta["labels"]) else labels,
        settings,
        base,
        "bundled",
        cache,
        rep.summary(),
    )
    t1 = time.perf_counter()
    speed = R.measure_speed(plan.items, plan.labels, settings, base, cache)
    t2 = time.perf_counter()
    train, val = R.split_items(plan.items, settings.split, settings.seed)
    estimate = R.estimate_seconds(len(train), len(val), settings.epochs, speed)
    cpu0, load0 = _cpu(), os.getloadavg()[0]
    out = R.run_retraining(plan, log=lambda s: print(s, flush=True))
    t3 = time.perf_counter()
    cpu, load1 = _cpu() - cpu0, os.getloadavg()[0]
    res = out.result
    return [
        f"**Default fine-tune on {len(plan.items)} EmoDB utterances** (bundled model, whole network, "
        f"at most {settings.epochs} epochs, lr {settings.learning_rate:g}, augmentation on, validation by speaker)",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| data check (decode {len(items)} files into the cache) | {t1 - t0:.0f} |",
        f"| speed measurement (Settings page) | {t2 - t1:.0f} |",
        f"| **run: score start model + train + score new model** | **{t3 - t2:.0f}** ({(t3 - t2) / 60:.1f} min) |",
        f"| CPU time of that run (user + system, all threads) | {cpu:.0f} |",
        f"| the wizard's estimate beforehand (upper bound) | {estimate:.0f} |",
        "",
        f"Epochs run: {len(res.history)} (best {res.best_epoch}; early stop after 5 without UA gain); "
        f"{out.split}; device {speed.device}, {speed.threads} torch threads; "
        f"measured {1000 * speed.train_s_per_clip:.0f} ms per training clip-epoch; machine load average "
        f"{load0:.1f} at the start of the run, {load1:.1f} at its end (2 cores, shared).",
        f"Validation figures (not held-out: the bundled model was trained on these speakers): new UA "
        f"{_pct(out.figures.ua)} / WA {_pct(out.figures.wa)}; starting model UA "
        f"{_pct(out.base_figures.ua if out.base_figures else None)} / WA "
        f"{_pct(out.base_figures.wa if out.base_figures else None)}.",
    ]


def part_adapt(epochs: int | None, cache: Path) -> list[str]:
    import soundfile as sf

    from esergui import retrain as R
    from esergui.paths import emodb_dir
    from model.data import Item, emodb_items, load_waveforms
    from model.evaluate import evaluate, noisy
    from model.io import load_model

    if not FOLD_MODEL.is_file():
        return [f"part adapt: {FOLD_MODEL} is missing (run `esergui evaluate` speaker-pairs fold 0 first); not run."]
    items = emodb_items(emodb_dir())
    train_items = [it for it in items if it.speaker not in TEST_SPEAKERS]
    test_items = [it for it in items if it.speaker in TEST_SPEAKERS]
    train_w = load_waveforms(train_items, cache)
    test_w = load_waveforms(test_items, cache)
    folder = OUT / "babble10"
    folder.mkdir(parents=True, exist_ok=True)

    def write(its, wavs, tag):
        out = []
        for it, w in zip(its, wavs):
            p = folder / f"{tag}_{Path(it.path).name}"
            if not p.is_file():
                sf.write(str(p), w, 16000, subtype="FLOAT")
            out.append(Item(str(p), it.label, it.speaker, it.gender))
        return out

    noisy_train = write(train_items, noisy(train_w, "babble", 10.0, train_w, seed=1), "train")
    noisy_test = write(test_items, noisy(test_w, "babble", 10.0, train_w, seed=2), "test")
    settings = R.RetrainSettings() if epochs is None else R.RetrainSettings(epochs=epochs)
    base = load_model(FOLD_MODEL)
    plan = R.RetrainPlan(noisy_train, list(base.labels), settings, FOLD_MODEL, "fold0", cache)
    t0, cpu0, load0 = time.perf_counter(), _cpu(), os.getloadavg()[0]
    out = R.run_retraining(plan, log=lambda s: print(s, flush=True))
    secs, cpu, load1 = time.perf_counter() - t0, _cpu() - cpu0, os.getloadavg()[0]
    rows = []
    for cond, test in (("babble 10 dB", noisy_test), ("clean", test_items)):
        before = evaluate(base, test, cache_dir=cache)
        after = evaluate(out.bundle, test, cache_dir=cache)
        rows.append(
            f"| {cond} | {before.n} | {_pct(before.ua)} | {_pct(after.ua)} | {100 * (after.ua - before.ua):+.1f} "
            f"| {_pct(before.wa)} | {_pct(after.wa)} | {100 * (after.wa - before.wa):+.1f} |"
        )
    res = out.result
    return [
        f"**Accuracy change on held-out speakers {' and '.join(TEST_SPEAKERS)}** (start: fold-0 cross-validation "
        f"model, never trained on them; default fine-tune on {len(noisy_train)} clips of the other 8 speakers with "
        f"babble at 10 dB SNR; {len(res.history)} epochs, best {res.best_epoch}, {secs / 60:.1f} min wall, "
        f"{cpu / 60:.1f} min CPU, load average {load0:.1f} → {load1:.1f}; {out.split})",
        "",
        "| test condition | clips | UA before | UA after | Δ UA (points) | WA before | WA after | Δ WA (points) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]


def main() -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["time", "adapt", "both"], default="both")
    ap.add_argument("--n", type=int, default=500, help="utterances for the timing run (default 500)")
    ap.add_argument("--epochs", type=int, help="override the default epoch count (quick checks only)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cache = Path(".cache/audio")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    OUT.mkdir(parents=True, exist_ok=True)
    head = (
        f"Run {started} on {platform.machine()} ({torch.get_num_threads()} torch threads, torch {torch.__version__})."
    )
    for part, run in (
        ("time", lambda: part_time(args.n, args.epochs, cache)),
        ("adapt", lambda: part_adapt(args.epochs, cache)),
    ):
        if args.part in (part, "both"):
            text = "\n".join([head, "", *run(), ""])
            (OUT / f"result_{part}.md").write_text(text)  # each part is kept as soon as it is done
            print(text, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
