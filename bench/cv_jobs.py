"""Run many cross-validation folds in parallel (one process per fold), e.g. on a machine with a
GPU and many cores, within a wall-clock budget; then merge the per-fold folders into one
results folder per run (``predictions.csv``, ``folds.csv``, ``summary.md``) like
``esergui evaluate`` writes.

Each job is one fold of one run: ``(recipe, method, prosody, protocol, seed, fold)``. Jobs are
started in the plan's order (seed 0 of every run first, then seed 1, ...), so a budget that
runs out leaves whole seeds rather than one run complete and the others empty. Nothing here
looks at test results: the plan is fixed before the run.

    python -m bench.cv_jobs run --data LIST.csv --out DIR --workers 14 --budget 480 --device cuda
    python -m bench.cv_jobs merge --out DIR --dest bench/out
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Job:
    recipe: str
    method: str
    prosody: bool
    protocol: str
    seed: int
    fold: int
    robustness: bool

    @property
    def stem(self) -> str:
        from model.recipes import get_recipe

        return get_recipe(self.recipe).run_name(self.method, self.prosody) + f"-{self.protocol}-s{self.seed}"

    def args(self) -> list[str]:
        return [
            self.recipe,
            self.method,
            str(int(self.prosody)),
            self.protocol,
            str(self.seed),
            str(self.fold),
            str(int(self.robustness)),
        ]


def plan() -> list[Job]:
    """The runs of the second recipe's evaluation, seed-major."""
    jobs: list[Job] = []
    for seed in SEEDS:
        runs = [
            ("esernet2", "esernet", True, "speaker-pairs", 5, True),
            ("esernet2", "st", True, "speaker-pairs", 5, False),
            ("esernet2", "sformer", True, "speaker-pairs", 5, False),
            ("esernet2", "st_cue", True, "speaker-pairs", 5, False),
            ("esernet2", "esernet", False, "speaker-pairs", 5, False),
            ("esernet2-noise", "esernet", True, "speaker-pairs", 5, True),
            ("esernet2", "esernet", True, "random10", 10, False),
        ]
        for recipe, method, prosody, protocol, n_folds, robust in runs:
            jobs += [Job(recipe, method, prosody, protocol, seed, k, robust) for k in range(n_folds)]
    return jobs


def run_one(data: str, out: str, device: str, job: Job, epochs: int = 0) -> None:
    import dataclasses

    import torch

    from model.data import EMODB_LABELS, load_items
    from model.evaluate import cross_validate
    from model.recipes import get_recipe

    torch.set_num_threads(1)
    recipe = get_recipe(job.recipe).with_prosody(job.prosody)
    tcfg = dataclasses.replace(recipe.training, seed=job.seed, **({"epochs": epochs} if epochs else {}))
    robust = [(k, s) for k in ("babble", "room") for s in (20, 10, 5)] if job.robustness else []
    cross_validate(
        load_items(data),
        job.protocol,
        job.method,
        Path(out) / job.stem / f"fold{job.fold}",
        labels=EMODB_LABELS,
        model_config=recipe.network,
        train_config=tcfg,
        feature_config=recipe.features,
        robustness=robust,
        folds=[job.fold],
        nested=recipe.nested,
        device=device,
        log=lambda s: print(s, flush=True),
    )


def run_all(data: str, out: str, device: str, workers: int, budget_s: float, epochs: int = 0, limit: int = 0) -> None:
    jobs = plan()[: limit or None]
    t0 = time.time()
    running: list[tuple[Job, subprocess.Popen, float]] = []
    todo = list(jobs)
    done, failed = 0, 0
    logs = Path(out) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    while todo or running:
        now = time.time() - t0
        for job, proc, started in list(running):
            if proc.poll() is not None:
                running.remove((job, proc, started))
                ok = proc.returncode == 0
                done += ok
                failed += not ok
                print(
                    f"[{now:6.0f} s] {'done' if ok else 'FAILED'} {job.stem} fold {job.fold} "
                    f"({time.time() - started:.0f} s)",
                    flush=True,
                )
        if now > budget_s:
            for job, proc, _ in running:
                proc.kill()
                print(f"[{now:6.0f} s] budget over: killed {job.stem} fold {job.fold}", flush=True)
            break
        while todo and len(running) < workers:
            job = todo.pop(0)
            with open(logs / f"{job.stem}-fold{job.fold}.log", "w") as log:  # the child keeps its own handle
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "bench.cv_jobs",
                        "one",
                        "--data",
                        data,
                        "--out",
                        out,
                        "--device",
                        device,
                        "--epochs",
                        str(epochs),
                        *job.args(),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            running.append((job, proc, time.time()))
        time.sleep(1.0)
    print(f"jobs: {done} done, {failed} failed, {len(todo)} not started, {time.time() - t0:.0f} s", flush=True)


def merge(out: str, dest: str) -> None:
    """Concatenate ``out/<stem>/fold<k>/{predictions,folds}.csv`` into ``dest/<stem>/`` (file
    names back to ``.wav``) and write the summaries; only folds that finished are merged."""
    from model.data import EMODB_LABELS
    from model.evaluate import summarise

    for run in sorted(p for p in Path(out).iterdir() if p.is_dir() and p.name != "logs"):
        target = Path(dest) / run.name
        target.mkdir(parents=True, exist_ok=True)
        n_folds = 10 if "random10" in run.name else 5
        for name in ("predictions.csv", "folds.csv"):
            rows: list[dict[str, str]] = []
            for fold_dir in sorted(run.glob("fold*")):
                if (fold_dir / "folds.csv").is_file() and (fold_dir / name).is_file():
                    with open(fold_dir / name, newline="") as fh:
                        rows += list(csv.DictReader(fh))
            for r in rows:
                if "file" in r:
                    r["file"] = r["file"].replace(".flac", ".wav")
            if rows:
                with open(target / name, "w", newline="") as fh:
                    w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                    w.writeheader()
                    w.writerows(rows)
        if (target / "folds.csv").is_file():
            summarise(target, EMODB_LABELS, n_folds=n_folds, title=run.name)
            print(f"merged {run.name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--data", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--device", default="cuda")
    r.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2))
    r.add_argument("--budget", type=float, default=480.0, help="seconds before running jobs are killed")
    r.add_argument("--epochs", type=int, default=0, help="override the recipe's epochs (smoke tests)")
    r.add_argument("--limit", type=int, default=0, help="run only the first N jobs of the plan (smoke tests)")
    o = sub.add_parser("one")
    o.add_argument("--data", required=True)
    o.add_argument("--out", required=True)
    o.add_argument("--device", default="cuda")
    o.add_argument("--epochs", type=int, default=0)
    o.add_argument("job", nargs=7)
    m = sub.add_parser("merge")
    m.add_argument("--out", required=True)
    m.add_argument("--dest", default="bench/out")
    a = ap.parse_args()
    if a.cmd == "run":
        run_all(a.data, a.out, a.device, a.workers, a.budget, a.epochs, a.limit)
    elif a.cmd == "one":
        rec, meth, pros, prot, seed, fold, rob = a.job
        run_one(a.data, a.out, a.device, Job(rec, meth, pros == "1", prot, int(seed), int(fold), rob == "1"), a.epochs)
    else:
        merge(a.out, a.dest)


if __name__ == "__main__":
    main()
