"""Measure the arousal/valence read-out (:mod:`model.affect`) on per-clip predictions.

Reads a cross-validation predictions CSV (columns ``fold``, ``condition``, ``file``,
``speaker``, ``true``, ``pred``, ``p_<label>``...; the label order comes from its header) and
writes a Markdown report: high/low arousal UA/WA per test condition under three decision
rules, per-fold spread on clean speech, disgust counted in either arousal group, and the mean
arousal/valence per true class.

    .venv/bin/python -m bench.affect_eval [PREDICTIONS_CSV] [--out bench/results/affect_eval.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from esergui.lesson import CONFIDENCE_THRESHOLD
from model.affect import COORDINATES, affect_matrix, high_arousal_probability, high_low_arousal
from model.metrics import compute_figures

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT / "bench" / "results" / "cv_esernet-spknorm-speaker-pairs_predictions.csv"
DEFAULT_OUT = ROOT / "bench" / "results" / "affect_eval.md"
GROUPS = ["high", "low"]
GOAL_UA = 92.0


def _ua_wa(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Binary UA and WA (percent) of two arrays of ``"high"``/``"low"``."""
    index = {g: i for i, g in enumerate(GROUPS)}
    fig = compute_figures([index[t] for t in truth], [index[p] for p in pred], GROUPS)
    return 100 * fig.ua, 100 * fig.wa


def decisions(frame: pd.DataFrame, labels: list[str], disgust_high: bool = True) -> dict[str, np.ndarray]:
    """Predicted arousal group per clip under each rule (and the truth under ``"truth"``)."""

    def group(label: str) -> str:
        if label == "disgust" and not disgust_high:
            return "low"
        return high_low_arousal(label) or "low"

    probs = frame[[f"p_{x}" for x in labels]].to_numpy(dtype=float)
    out = {"truth": frame["true"].map(group).to_numpy(), "argmax class": frame["pred"].map(group).to_numpy()}
    if disgust_high:
        out["P(high) > 0.5"] = np.where(high_arousal_probability(probs, labels) > 0.5, "high", "low")
        out["expected arousal > 0"] = np.where(affect_matrix(probs, labels)[:, 0] > 0, "high", "low")
    else:
        high = np.array([group(x) == "high" for x in labels])
        out["P(high) > 0.5"] = np.where(probs[:, high].sum(1) / probs.sum(1) > 0.5, "high", "low")
    return out


def report(csv_path: Path) -> str:
    frame = pd.read_csv(csv_path, dtype={"speaker": str})
    labels = [c[2:] for c in frame.columns if c.startswith("p_")]
    unknown = [x for x in labels if high_low_arousal(x) is None]
    conditions = list(dict.fromkeys(frame["condition"]))
    shown = csv_path.relative_to(ROOT) if csv_path.is_relative_to(ROOT) else csv_path
    clean = (
        frame[frame["condition"] == "clean"] if "clean" in conditions else frame[frame["condition"] == conditions[0]]
    )
    lines = [
        "# Arousal and valence read-out: measured",
        "",
        (
            f"Predictions: `{shown}` ({len(clean)} clips per condition, {frame['fold'].nunique()} folds; "
            f"labels in file order: {', '.join(labels)})."
        ),
        "Mapping: `model/affect.py` (expected circumplex point under the class probabilities; see its docstring). "
        "Arousal groups: "
        + ", ".join(f"{x} {high_low_arousal(x)}" for x in labels if x not in unknown)
        + (f"; unknown, left out: {', '.join(unknown)}" if unknown else "")
        + ".",
        "",
        f"Command: `.venv/bin/python -m bench.affect_eval {shown}`",
        "",
        f"## High/low arousal, pooled over folds (goal: UA >= {GOAL_UA:g} on clean speech)",
        "",
        (
            "Decision rules: *argmax class* = the arousal group of the predicted class; *P(high) > 0.5* = the "
            "probability mass on high-arousal classes; *expected arousal > 0* = the sign of the `arousal` value the app stores."
        ),
        "",
        "| condition | rule | UA % | WA % |",
        "|---|---|---|---|",
    ]
    for cond in conditions:
        part = frame[frame["condition"] == cond]
        dec = decisions(part, labels)
        for rule, pred in dec.items():
            if rule != "truth":
                ua, wa = _ua_wa(dec["truth"], pred)
                lines.append(f"| {cond} | {rule} | {ua:.1f} | {wa:.1f} |")
    lines += [
        "",
        "## Clean speech per fold (UA %, rule: expected arousal > 0)",
        "",
        "| fold | n | UA % |",
        "|---|---|---|",
    ]
    per_fold = []
    for fold, part in clean.groupby("fold"):
        dec = decisions(part, labels)
        ua, _ = _ua_wa(dec["truth"], dec["expected arousal > 0"])
        per_fold.append(ua)
        lines.append(f"| {fold} | {len(part)} | {ua:.1f} |")
    lines.append(
        f"| mean ± sd | | {np.mean(per_fold):.1f} ± {np.std(per_fold, ddof=1) if len(per_fold) > 1 else 0:.1f} |"
    )
    lines += [
        "",
        "## Where disgust goes (clean speech)",
        "",
        (
            "Disgust's place on the arousal axis is the least settled of the mapping; both groupings, truth and "
            "prediction alike:"
        ),
        "",
        "| disgust counted as | rule | UA % | WA % |",
        "|---|---|---|---|",
    ]
    for high, name in ((True, "high arousal (the mapping)"), (False, "low arousal")):
        dec = decisions(clean, labels, disgust_high=high)
        for rule in ("argmax class", "P(high) > 0.5"):
            ua, wa = _ua_wa(dec["truth"], dec[rule])
            lines.append(f"| {name} | {rule} | {ua:.1f} | {wa:.1f} |")
    confidence = clean[[f"p_{x}" for x in labels]].to_numpy(dtype=float).max(axis=1)
    lines += [
        "",
        f"## Below the app's confidence threshold ({CONFIDENCE_THRESHOLD:g}; clean speech)",
        "",
        (
            'Summaries count such clips as "uncertain" instead of their class but keep their arousal/valence '
            "in the means; class UA and arousal UA on each side of the threshold:"
        ),
        "",
        "| clips | n | class UA % | arousal UA % (expected arousal > 0) |",
        "|---|---|---|---|",
    ]
    for name, sel in (
        ("confidence < threshold", confidence < CONFIDENCE_THRESHOLD),
        ("confidence >= threshold", confidence >= CONFIDENCE_THRESHOLD),
    ):
        part = clean[sel]
        if len(part) == 0:
            continue
        index = {x: i for i, x in enumerate(labels)}
        class_ua = 100 * compute_figures(part["true"].map(index), part["pred"].map(index), labels).ua
        dec = decisions(part, labels)
        ua, _ = _ua_wa(dec["truth"], dec["expected arousal > 0"]) if len(set(dec["truth"])) == 2 else (np.nan, np.nan)
        lines.append(f"| {name} | {len(part)} | {class_ua:.1f} | {ua:.1f} |")
    points = affect_matrix(clean[[f"p_{x}" for x in labels]].to_numpy(dtype=float), labels)
    lines += [
        "",
        "## Mean read-out per true class (clean speech)",
        "",
        "| true class | n | class point (arousal, valence) | mean arousal ± sd | mean valence ± sd |",
        "|---|---|---|---|---|",
    ]
    truth = clean["true"].to_numpy()
    for label in labels:
        sel = truth == label
        if not sel.any():
            continue
        a, v = points[sel, 0], points[sel, 1]
        ref = COORDINATES.get(label)
        ref_s = f"({ref.arousal:+.2f}, {ref.valence:+.2f})" if ref else "–"
        lines.append(
            f"| {label} | {int(sel.sum())} | {ref_s} | {np.mean(a):+.2f} ± {np.std(a):.2f} | {np.mean(v):+.2f} ± {np.std(v):.2f} |"
        )
    ref_a = np.array([COORDINATES[t].arousal if t in COORDINATES else np.nan for t in truth])
    ref_v = np.array([COORDINATES[t].valence if t in COORDINATES else np.nan for t in truth])
    ok = ~np.isnan(ref_a) & ~np.isnan(points[:, 0])
    r_a = np.corrcoef(points[ok, 0], ref_a[ok])[0, 1]
    r_v = np.corrcoef(points[ok, 1], ref_v[ok])[0, 1]
    lines += [
        "",
        (
            f"Pearson r between the read-out and the true class's point (clean, n = {int(ok.sum())}): "
            f"arousal {r_a:.3f}, valence {r_v:.3f}."
        ),
    ]
    signed = ok & (ref_v != 0)  # neutral has no valence sign
    if signed.any():
        t = np.where(ref_v[signed] > 0, "high", "low")
        p = np.where(points[signed, 1] > 0, "high", "low")
        if len(set(t)) == 2:
            ua, wa = _ua_wa(t, p)
            lines.append(
                f"Positive vs negative valence (sign of the read-out; clean, neutral left out, n = {int(signed.sum())}): "
                f"UA {ua:.1f} %, WA {wa:.1f} %."
            )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", nargs="?", default=str(DEFAULT_CSV), help="per-clip predictions CSV")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="Markdown report to write")
    args = parser.parse_args(argv)
    path = Path(args.predictions).resolve()
    if not path.is_file():
        print(f"affect_eval: {path} does not exist", file=sys.stderr)
        return 2
    text = report(path)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
