"""Tables of the second ESERNet recipe from its cross-validation runs, and the committed copies
of their per-clip predictions, so every figure can be recomputed.

    .venv/bin/python -m bench.recipe2_report            # reads bench/out (else bench/results), writes bench/results

Reads ``bench/out/<run>/{predictions,folds}.csv`` (written by ``esergui evaluate`` or
``bench.cv_jobs merge``), or, for a run not in bench/out, its committed copies
``bench/results/cv_<run>_{predictions,folds}.csv``; writes ``bench/results/esernet2.md``, ``bench/results/esernet2_reliability.png``
and ``bench/results/cv_<run>_{predictions,folds}.csv``. Calibration: the stored probabilities are
the calibrated ones (each fold's temperature applied); the uncalibrated ones are recovered as
``softmax(T * log p)`` with the fold's ``T`` from ``folds.csv`` (exact up to the 5-decimal rounding).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

from model.calibration import reliability
from model.data import EMODB_LABELS
from model.metrics import compute_figures

OUT = Path("bench/out")
RESULTS = Path("bench/results")
LABELS = EMODB_LABELS
SI = "speaker-pairs"
#: (run stem without the seed, what it is)
RUNS = [
    ("esernet2", "ESERNet, recipe 2 (cue + S-former, prosody, mean+sd pooling, input statistics)"),
    ("esernet2-noprosody", "recipe 2 without the prosody channels"),
    ("esernet2-st", "recipe 2, plain Transformer (no cue pathway, no S-former)"),
    ("esernet2-sformer", "recipe 2, S-former only (no cue pathway)"),
    ("esernet2-st_cue", "recipe 2, Transformer + cue pathway (no S-former)"),
    ("esernet2-noise", "recipe 2 with noise augmentation (30 % of crops, 10-30 dB)"),
]


def read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def run_csv(run: str, name: str) -> Path:
    """``bench/out/<run>/<name>.csv`` when that run is on this machine, else its committed copy
    ``bench/results/cv_<run>_<name>.csv`` (so a fresh clone regenerates the tables)."""
    fresh = OUT / run / f"{name}.csv"
    return fresh if fresh.is_file() else RESULTS / f"cv_{run}_{name}.csv"


def seed_runs(stem: str, protocol: str) -> list[str]:
    """Names of the run's seeds (``<stem>-<protocol>-s<N>``) found in bench/out or bench/results."""
    names = {p.name for p in OUT.glob(f"{stem}-{protocol}-s[0-9]") if (p / "folds.csv").is_file()}
    names |= {p.name[3 : -len("_folds.csv")] for p in RESULTS.glob(f"cv_{stem}-{protocol}-s[0-9]_folds.csv")}
    return sorted(names)


def sd(values) -> float:
    """Sample standard deviation (ddof=1); 0 for a single value."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def probs_of(rows: list[dict[str, str]]) -> np.ndarray:
    return np.array([[float(r[f"p_{lab}"]) for lab in LABELS] for r in rows])


def figures(rows: list[dict[str, str]]):
    return compute_figures([LABELS.index(r["true"]) for r in rows], [LABELS.index(r["pred"]) for r in rows], LABELS)


def run_line(stem: str, protocol: str, n_folds: int) -> tuple[str, list[dict[str, str]]]:
    """One table row: pooled figures of seed 0, mean ± sd of pooled UA over seeds, the seed
    ensemble (mean probability) where every seed has the same clips, inner validation UA."""
    runs = seed_runs(stem, protocol)
    if not runs:
        return "", []
    per_seed = []
    for d in runs:
        preds = [r for r in read(run_csv(d, "predictions")) if r["condition"] == "clean"]
        folds = [r for r in read(run_csv(d, "folds")) if r["condition"] == "clean"]
        per_seed.append((d, preds, folds))
    _, p0, f0 = per_seed[0]
    fig = figures(p0)
    # seeds are compared on the folds every seed finished (a budget may stop a seed part-way)
    common = set.intersection(*({r["fold"] for r in f} for _, _, f in per_seed))
    on_common = [sorted((r for r in p if r["fold"] in common), key=lambda r: r["file"]) for _, p, _ in per_seed]
    uas = [100 * figures(p).ua for p in on_common]
    fold_ua = np.array([100 * float(r["ua"]) for r in f0])
    inner = [float(r["inner_val_ua"]) for _, _, fs in per_seed for r in fs if r.get("inner_val_ua")]
    seeds = "1 seed"
    ens = ""
    if len(per_seed) > 1:
        seeds = (
            f"{np.mean(uas):.1f} ± {sd(uas):.1f} ({len(uas)} seeds: "
            f"{', '.join(f'{u:.1f}' for u in uas)}; folds {' '.join(sorted(common))})"
        )
        mean_p = np.mean([probs_of(p) for p in on_common], axis=0)
        truth = [LABELS.index(r["true"]) for r in on_common[0]]
        ens = f"{100 * compute_figures(truth, mean_p.argmax(1).tolist(), LABELS).ua:.1f}"
    line = (
        f"| {stem} | {len(f0)} of {n_folds} | {100 * fig.wa:.1f} | {100 * fig.ua:.1f} | {100 * fig.macro_f1:.1f} | "
        f"{fold_ua.mean():.1f} ± {sd(fold_ua):.1f} | {seeds} | {ens} | "
        f"{100 * np.mean(inner):.1f} |"
        if inner
        else ""
    )
    return line, p0


def noise_table(stems: list[str]) -> list[str]:
    conds = ["clean", "babble20", "babble10", "babble5", "room20", "room10", "room5"]
    out = ["| run | folds | " + " | ".join(conds) + " |", "|---" * (len(conds) + 2) + "|"]
    for stem, run in stems:
        rows = read(run_csv(run, "predictions"))
        folds = sorted({r["fold"] for r in rows})
        cells = []
        for c in conds:
            sel = [r for r in rows if r["condition"] == c]
            cells.append(f"{100 * figures(sel).ua:.1f}" if sel else "")
        out.append(f"| {stem} | {len(folds)} ({' '.join(folds)}) | " + " | ".join(cells) + " |")
    return out


def uncalibrated(rows: list[dict[str, str]], temps: dict[str, float]) -> np.ndarray:
    p = np.clip(probs_of(rows), 1e-12, 1.0)
    t = np.array([temps.get(r["fold"], 1.0) for r in rows])[:, None]
    z = t * np.log(p)
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def reliability_png(curves: dict[str, tuple[np.ndarray, list[int]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    for name, (p, y) in curves.items():
        rel = reliability(p, y)
        ok = rel.counts > 0
        ax.plot(rel.confidence[ok], rel.accuracy[ok], marker="o", label=f"{name} (ECE {rel.ece:.3f})")
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.set_title("ESERNet recipe 2, unseen speakers\n(5 speaker-pair folds, seed 0)", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    head = [
        (
            "| run | folds | WA (pooled) | UA (pooled) | macro-F1 | UA mean ± sd over folds | pooled UA over seeds | "
            "seed ensemble UA (same folds) | inner-validation UA (training speakers) |"
        ),
        "|---" * 9 + "|",
    ]
    md = [
        "# ESERNet recipe 2: cross-validation on EmoDB",
        "",
        (
            "Generated by `.venv/bin/python -m bench.recipe2_report` from the runs in `bench/out/`, or where a "
            "run is not there from its committed per-clip predictions and fold rows "
            "(`bench/results/cv_<run>_{predictions,folds}.csv`). Standard deviations are sample ones (n - 1). Pooled figures are seed 0's; seeds are compared on the folds every seed finished; "
            "UA in %."
        ),
        "",
        "## Speaker-independent (5 folds of one male + one female speaker)",
        "",
    ] + head
    for stem, _what in RUNS:
        line, _ = run_line(stem, SI, 5)
        if line:
            md.append(line)
    base = "esernet2-baseline-speaker-pairs"
    if run_csv(base, "predictions").is_file():
        b = figures([r for r in read(run_csv(base, "predictions")) if r["condition"] == "clean"])
        md.append(
            f"| eGeMAPS + SVM (same folds, all 8 training speakers, speaker-standardised) | 5 of 5 | "
            f"{100 * b.wa:.1f} | {100 * b.ua:.1f} | {100 * b.macro_f1:.1f} | | deterministic | | |"
        )
    md += [
        "",
        "Runs: " + "; ".join(f"`{s}`: {w}" for s, w in RUNS),
        "",
        "## Random stratified 10-fold (speakers shared; optimistic)",
        "",
    ] + head
    line, _ = run_line("esernet2", "random10", 10)
    if line:
        md.append(line)
    base10 = "esernet2-baseline-random10"
    if run_csv(base10, "predictions").is_file():
        b = figures([r for r in read(run_csv(base10, "predictions")) if r["condition"] == "clean"])
        md.append(
            f"| eGeMAPS + SVM | 10 of 10 | {100 * b.wa:.1f} | {100 * b.ua:.1f} | {100 * b.macro_f1:.1f} | | | | |"
        )
    noisy = [(s, d) for s in ("esernet2", "esernet2-noise") for d in seed_runs(s, SI)[:1]]
    noisy += [("eGeMAPS + SVM", base)] if run_csv(base, "predictions").is_file() else []
    md += ["", "## Robustness: UA (pooled over the folds run, %) with babble / room noise at 20, 10, 5 dB SNR", ""]
    md += noise_table(noisy)
    # calibration of the main run, seed 0
    runs = seed_runs("esernet2", SI)
    if runs:
        rows = [r for r in read(run_csv(runs[0], "predictions")) if r["condition"] == "clean"]
        temps = {
            r["fold"]: float(r["temperature"])
            for r in read(run_csv(runs[0], "folds"))
            if r["condition"] == "clean" and r.get("temperature")
        }
        y = [LABELS.index(r["true"]) for r in rows]
        cal, raw = probs_of(rows), uncalibrated(rows, temps)
        r_cal, r_raw = reliability(cal, y), reliability(raw, y)
        reliability_png(
            {"temperature-scaled": (cal, y), "uncalibrated": (raw, y)}, RESULTS / "esernet2_reliability.png"
        )
        low = cal.max(1) < 0.5
        md += [
            "",
            "## Calibration (speaker-independent, seed 0, clean)",
            "",
            (
                "Temperatures per fold (fitted on the inner split's two held-out training speakers): "
                f"{', '.join(f'{k}: {v:.2f}' for k, v in sorted(temps.items()))}."
            ),
            "",
            (
                f"ECE (10 bins): uncalibrated **{r_raw.ece:.3f}**, temperature-scaled **{r_cal.ece:.3f}** "
                f"(goal <= 0.05). Below the app's 0.5 threshold: {100 * low.mean():.1f} % of clips, right for "
                f"{100 * np.mean(cal[low].argmax(1) == np.array(y)[low]):.1f} % of them; at or above it right for "
                f"{100 * np.mean(cal[~low].argmax(1) == np.array(y)[~low]):.1f} %."
            ),
            "",
            "Temperature-scaled:",
            "",
            r_cal.markdown(),
            "",
            "Uncalibrated:",
            "",
            r_raw.markdown(),
            "",
            "Plot: `bench/results/esernet2_reliability.png`.",
        ]
    (RESULTS / "esernet2.md").write_text("\n".join(md) + "\n")
    for run in sorted(OUT.glob("esernet2*")):
        for name in ("predictions", "folds"):
            if (run / f"{name}.csv").is_file():
                shutil.copyfile(run / f"{name}.csv", RESULTS / f"cv_{run.name}_{name}.csv")
    print((RESULTS / "esernet2.md").read_text())


if __name__ == "__main__":
    main()
