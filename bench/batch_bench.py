"""Batch benchmark: many long lessons with ``--jobs 1``, ``--jobs 2`` and a local Dask cluster.

    .venv/bin/python -m bench.batch_bench                          # 20 lessons of 45 minutes
    .venv/bin/python -m bench.batch_bench --lessons 6 --minutes 45 --write bench/results/batch_bench.md

Lessons are the bundled demo lesson (``resources/demo/demo_lesson.ogg``, 3.4 min) looped to
``--minutes``, each started at a different offset and with its own faint noise (-70 dBFS) so
every lesson is a different recording (different content hash), written as 16 kHz FLAC to
``--work`` (default ``/tmp/batch_bench``; never into the repository). Each configuration runs
:func:`esergui.batch.run.run_batch` on all lessons into a fresh output folder:

* ``local, jobs 1``: one worker process with all cores as torch threads;
* ``local, jobs 2``: two worker processes, cores / 2 threads each;
* ``dask LocalCluster, 2 workers``: two Dask worker processes, cores / 2 threads each.
* ``jobs1t1`` (only when named in ``--configs``): one worker process with one thread, the
  per-worker thread count of the two-worker rows (a fair jobs-1 baseline on a busy machine).

Reported: wall time, throughput in audio hours per wall hour, scaling ratio (jobs-1 wall time /
this wall time), CPU seconds of the workers (all threads), and the peak resident memory of
each worker process (the largest ``ru_maxrss`` a worker reported). Prints a Markdown table;
``--write FILE`` also writes it with the command and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "demo_lesson.ogg"
CONFIGS = {
    "jobs1": ("local, jobs 1", 1, None),
    "jobs2": ("local, jobs 2", 2, None),
    "dask2": ("Dask LocalCluster, 2 workers", 2, "local"),
    "jobs1t1": ("local, jobs 1, 1 thread", 1, None),
}  # jobs1t1: the thread count of jobs 2, for a busy machine


def build_lessons(work: Path, count: int, minutes: float) -> list[Path]:
    """``count`` different looped copies of the demo lesson (kept for the next run)."""
    import soundfile as sf

    from esergui.audio import load_audio

    folder = work / f"lessons_{minutes:g}min"
    folder.mkdir(parents=True, exist_ok=True)
    demo = np.asarray(load_audio(DEMO), dtype=np.float32)
    n = int(minutes * 60 * 16000)
    paths = []
    for k in range(count):
        path = folder / f"lesson{k:02d}.flac"
        if not path.is_file():
            start = (k * 13 * 16000) % len(demo)
            looped = np.resize(np.roll(demo, -start), n)
            looped += np.random.default_rng(k).normal(0, 10 ** (-70 / 20), n).astype(np.float32)
            sf.write(path, looped, 16000, subtype="PCM_16")
        paths.append(path)
    return paths


def run_config(name: str, lessons: list[Path], work: Path) -> dict:
    from esergui.batch.engines import default_threads
    from esergui.batch.inputs import collect_inputs
    from esergui.batch.run import make_config, run_batch

    label, jobs, scheduler = CONFIGS[name]
    out = work / f"out_{name}"
    shutil.rmtree(out, ignore_errors=True)
    config = make_config(out, device="cpu", threads=1 if name.endswith("t1") else default_threads(jobs))
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    result = run_batch(collect_inputs(lessons), config, jobs=jobs, scheduler=scheduler)
    wall = time.perf_counter() - t0
    ok = [o for o in result.outcomes if o.ok]
    peaks: dict[str, float] = {}
    for o in ok:
        peaks[o.worker] = max(peaks.get(o.worker, 0.0), o.peak_rss_mb or 0.0)
    audio_h = sum(o.duration_s for o in ok) / 3600
    figures = {
        "label": label,
        "jobs": jobs,
        "threads": config.threads,
        "lessons": len(ok),
        "failed": len(result.failures),
        "audio_h": audio_h,
        "wall_s": wall,
        "throughput": audio_h / (wall / 3600),
        "cpu_s": sum(o.cpu_s for o in ok),
        "workers": len(peaks),
        "peak_mb": max(peaks.values(), default=float("nan")),
        "load": (load_before, os.getloadavg()[0]),
        "lesson_s": float(np.median([o.seconds for o in ok])) if ok else float("nan"),
    }
    print(
        f"{label}: {figures['lessons']} lessons in {wall:.0f} s, {figures['throughput']:.0f} audio h/h, "
        f"peak {figures['peak_mb']:.0f} MB per worker, load {load_before:.1f}",
        file=sys.stderr,
        flush=True,
    )
    return figures


def table(rows: list[dict]) -> str:
    base = next((r["wall_s"] for r in rows if r["jobs"] == 1 and "Dask" not in r["label"]), None)
    lines = [
        (
            "| configuration | threads per worker | lessons | audio h | wall s | audio h per h | scaling vs jobs 1 | "
            "worker CPU s | median s per lesson | peak memory per worker | load avg (start, end) |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        scaling = f"{base / r['wall_s']:.2f}x" if base else "n/a"
        lines.append(
            f"| {r['label']} | {r['threads']} | {r['lessons']} (failed {r['failed']}) | {r['audio_h']:.2f} | "
            f"{r['wall_s']:.0f} | {r['throughput']:.0f} | {scaling} | {r['cpu_s']:.0f} | {r['lesson_s']:.1f} | "
            f"{r['peak_mb']:.0f} MB ({r['workers']} workers) | {r['load'][0]:.1f}, {r['load'][1]:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=45.0)
    parser.add_argument("--configs", default="jobs1,jobs2,dask2", help="comma-separated: " + ", ".join(CONFIGS))
    parser.add_argument(
        "--work", default="/tmp/batch_bench", help="where lessons and outputs go (never the repository)"
    )
    parser.add_argument("--write", metavar="FILE", help="also write the results as Markdown here")
    parser.add_argument(
        "--budget-min",
        type=float,
        default=float("inf"),
        help="skip a configuration when the previous one's wall time would end the run past this many minutes",
    )
    parser.add_argument("--note", default="", help="a paragraph for the Markdown file (conditions, why scaled down)")
    args = parser.parse_args(argv)
    work = Path(args.work)
    t0 = time.perf_counter()
    lessons = build_lessons(work, args.lessons, args.minutes)
    print(
        f"{len(lessons)} lessons of {args.minutes:g} min ready in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    rows, skipped, start = [], [], time.perf_counter()
    for name in args.configs.split(","):
        elapsed = time.perf_counter() - start
        if rows and elapsed + rows[-1]["wall_s"] > args.budget_min * 60:
            skipped.append(CONFIGS[name][0])  # would end past the budget: not run, said so below
            continue
        rows.append(run_config(name, lessons, work))
    text = table(rows)
    if skipped:
        text += (
            f"\n\nNot run (the previous configuration's wall time would have taken the run past "
            f"--budget-min {args.budget_min:g}): {', '.join(skipped)}."
        )
    print(text)
    if args.write:
        command = "python -m bench.batch_bench " + shlex.join(argv if argv is not None else sys.argv[1:])
        head = (
            f"# Batch benchmark\n\nCommand: `.venv/bin/{command}`\n\n"
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n" + (f"{args.note}\n\n" if args.note else "")
        )
        Path(args.write).write_text(head + text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
