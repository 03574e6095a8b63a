"""Collect the cross-validation results (bench/out/<method>-<protocol>/) into
bench/results/ (one Markdown per run, plus esernet_emodb.md / .csv with the comparison tables)
and into the results section of model/MODEL_CARD.md.

    .venv/bin/python -m bench.collect_results
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RES = ROOT / "bench" / "results"
CARD = ROOT / "model" / "MODEL_CARD.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
NAMES = {
    "esernet": "ESERNet (cue + S-former)",
    "st_cue": "ST + cue pathway",
    "sformer": "S-former only",
    "st": "ST (plain Transformer)",
    "baseline": "eGeMAPS + SVM (openSMILE)",
}
CMD = "esergui evaluate /work/shared/data/emodb --protocol {p} --method {m}{r} --threads 1"
N_FOLDS = {"speaker-pairs": 5, "random10": 10}


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(open(path))) if path.is_file() else []


def run(method: str, protocol: str) -> tuple[dict[str, dict[str, str]], list[dict[str, str]]]:
    d = OUT / f"{method}-{protocol}"
    return {r["condition"]: r for r in read(d / "summary.csv")}, read(d / "folds.csv")


def pct(v: str | float) -> str:
    return f"{100 * float(v):.1f}"


def same_folds_ua(method: str, protocol: str, folds: set[str], ref: str = "esernet") -> str:
    """UA of ``ref`` pooled over the test folds that ``method`` has finished (fair comparison
    while a run is partial)."""
    if method == ref or not folds:
        return ""
    from model.data import EMODB_LABELS
    from model.metrics import compute_figures

    rows = [
        r
        for r in read(OUT / f"{ref}-{protocol}" / "predictions.csv")
        if r["condition"] == "clean" and r["fold"] in folds
    ]
    if not rows:
        return ""
    fig = compute_figures(
        [EMODB_LABELS.index(r["true"]) for r in rows], [EMODB_LABELS.index(r["pred"]) for r in rows], EMODB_LABELS
    )
    return pct(fig.ua)


def main_table(protocol: str, methods: list[str], title: str) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| model | folds done | WA (pooled) | UA (pooled) | macro-F1 (pooled) | UA mean ± sd over folds | ESERNet UA on the same folds |",
        "|---|---|---|---|---|---|---|",
    ]
    csv_rows = []
    for m in methods:
        summ, folds = run(m, protocol)
        done = len({r["fold"] for r in folds})
        c = summ.get("clean")
        if not c:
            lines.append(f"| {NAMES[m]} | 0 of {N_FOLDS[protocol]} | not run | | | | |")
            continue
        same = same_folds_ua(m, protocol, {r["fold"] for r in folds})
        lines.append(
            f"| {NAMES[m]} | {done} of {N_FOLDS[protocol]} | {pct(c['wa'])} | {pct(c['ua'])} | {pct(c['macro_f1'])} | "
            f"{pct(c['ua_fold_mean'])} ± {pct(c['ua_fold_sd'])} | {same} |"
        )
        csv_rows.append(
            {
                "protocol": protocol,
                "model": m,
                "folds_done": done,
                "condition": "clean",
                "wa": c["wa"],
                "ua": c["ua"],
                "macro_f1": c["macro_f1"],
            }
        )
    return lines + [""], csv_rows


def robustness_table(methods: list[str]) -> tuple[list[str], list[dict]]:
    conds = ["clean"] + [f"{k}{s}" for k in ("babble", "room") for s in (20, 10, 5)]
    lines = [
        "### Robustness: UA (pooled, %) on the speaker-independent test folds with added noise",
        "",
        "| model | " + " | ".join(conds) + " |",
        "|---" * (len(conds) + 1) + "|",
    ]
    rows = []
    for m in methods:
        summ, _ = run(m, "speaker-pairs")
        if len(summ) < 2:
            continue
        lines.append(f"| {NAMES[m]} | " + " | ".join(pct(summ[c]["ua"]) if c in summ else "–" for c in conds) + " |")
        rows += [
            {
                "protocol": "speaker-pairs",
                "model": m,
                "folds_done": "",
                "condition": c,
                "wa": summ[c]["wa"],
                "ua": summ[c]["ua"],
                "macro_f1": summ[c]["macro_f1"],
            }
            for c in conds
            if c in summ
        ]
    return lines + [""], rows


def per_class(method: str, protocol: str) -> list[str]:
    summ, _ = run(method, protocol)
    c = summ.get("clean")
    if not c:
        return []
    rec = {k[7:]: v for k, v in c.items() if k.startswith("recall_")}
    return [
        f"Per-class recall, {NAMES[method]}, {protocol} (pooled, %): "
        + ", ".join(f"{k} {pct(v)}" for k, v in rec.items()),
        "",
    ]


#: The runs the card's generated tables show; without all of them the tables would lose rows.
TABLE_RUNS = [
    ("esernet", "speaker-pairs"),
    ("baseline", "speaker-pairs"),
    ("st", "speaker-pairs"),
    ("sformer", "speaker-pairs"),
    ("st_cue", "speaker-pairs"),
    ("baseline", "random10"),
]


def main(argv: list[str] | None = None) -> int:
    from model.data import EMODB_LABELS
    from model.evaluate import summarise

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="rewrite the tables even where runs are missing")
    args = ap.parse_args(argv)
    missing = [f"{m}-{p}" for m, p in TABLE_RUNS if not (OUT / f"{m}-{p}" / "folds.csv").is_file()]
    if missing and not args.force:
        print(
            f"bench/out lacks the runs {', '.join(missing)}: the committed tables would lose their rows, so "
            "nothing was rewritten. Re-run them (commands in model/MODEL_CARD.md) or pass --force."
        )
        return 1
    RES.mkdir(parents=True, exist_ok=True)
    for d in sorted(OUT.glob("*-*")):  # re-summarise, so runs stopped part-way get tables too
        protocol = next((p for p in N_FOLDS if d.name.endswith("-" + p)), "")
        method = d.name[: -len(protocol) - 1]
        if (d / "predictions.csv").is_file() and protocol in N_FOLDS:
            summarise(d, EMODB_LABELS, N_FOLDS[protocol], f"{method}, {protocol}")
    for d in sorted(OUT.glob("*-*")):
        if (d / "summary.md").is_file():
            shutil.copy(d / "summary.md", RES / f"cv_{d.name}.md")
            shutil.copy(d / "folds.csv", RES / f"cv_{d.name}_folds.csv")
    si, rows1 = main_table(
        "speaker-pairs", ["esernet", "baseline"], "Speaker-independent (5 folds of one male + one female speaker)"
    )
    ab, rows2 = main_table(
        "speaker-pairs",
        ["st", "sformer", "st_cue", "esernet"],
        "Ablation (paper's Table 5 for EmoDB), speaker-independent",
    )
    r10, rows3 = main_table(
        "random10", ["esernet", "baseline"], "Random stratified 10-fold (speakers shared; optimistic)"
    )
    rob, rows4 = robustness_table(["esernet", "baseline"])
    cmds = [
        "Commands (each resumable; results in `bench/out/<method>-<protocol>/`, copied to "
        "`bench/results/cv_<method>-<protocol>.md` with per-fold rows and confusion matrices):",
        "",
        "```",
    ]
    for m, p, r in [
        ("esernet", "speaker-pairs", " --robustness"),
        ("baseline", "speaker-pairs", " --robustness"),
        ("st", "speaker-pairs", ""),
        ("sformer", "speaker-pairs", ""),
        ("st_cue", "speaker-pairs", ""),
        ("esernet", "random10", ""),
        ("baseline", "random10", ""),
    ]:
        cmds.append(CMD.format(p=p, m=m, r=r))
    cmds += ["```", ""]
    body = si + per_class("esernet", "speaker-pairs") + per_class("baseline", "speaker-pairs") + ab + r10 + rob + cmds
    (RES / "esernet_emodb.md").write_text("# ESERNet on EmoDB: cross-validation results\n\n" + "\n".join(body))
    with open(RES / "esernet_emodb.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["protocol", "model", "folds_done", "condition", "wa", "ua", "macro_f1"])
        w.writeheader()
        w.writerows(rows1 + rows2 + rows3 + rows4)
    card = CARD.read_text()
    if START in card and END in card:
        a, rest = card.split(START, 1)
        _, b = rest.split(END, 1)
        CARD.write_text(a + START + "\n" + "\n".join(body) + "\n" + END + b)
    print("\n".join(body))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
