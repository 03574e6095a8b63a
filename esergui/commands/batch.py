"""``esergui batch``: analyse a lesson archive in parallel (local processes or a Dask cluster).

INPUTs are audio files, folders (searched recursively for audio files) and manifest CSVs
(``path`` plus optional ``teacher``, ``class``, ``date``, ``subject``). Each lesson is written
to ``DIR/lessons/<lesson>_<hash>/``; the combined tables are ``DIR/all_summaries.csv`` and
``DIR/all_utterances.parquet``. ``--resume`` skips lessons already analysed with the same
audio, settings and model. A live bar shows the audio done with an ETA; at the end every
failed file is listed with a one-line reason; the exit code is 1 when any failed. See
``docs/BATCH.md``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from esergui.workspace import Workspace

NAME = "batch"
HELP = "analyse many lessons (files, folders, manifest CSVs) on local processes or a Dask cluster, with resume"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="audio files, folders (recursive) and manifest CSVs (path, teacher, class, date, subject)",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="output folder (per-lesson folders and the combined tables)"
    )
    parser.add_argument(
        "--workspace", metavar="DIR", help="also store the analysed lessons in this workspace (created if missing)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="lessons analysed at once: local worker processes (default 1), or workers of --scheduler local",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster: its scheduler address (tcp://host:8786), or 'local' for a local Dask cluster of --jobs processes",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="skip lessons whose outputs exist for the same audio content, settings and model",
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="compute threads per worker (default: cores / jobs locally; the worker's own on a remote cluster)",
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="compute device for the emotion model on each worker (default: auto)",
    )
    parser.add_argument(
        "--model",
        metavar="FILE",
        help="emotion model file (default: the workspace's active model, else the bundled one)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors and the failures list")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from esergui.batch.engines import default_threads
    from esergui.batch.inputs import collect_inputs
    from esergui.batch.run import make_config, run_batch

    if args.jobs < 1:
        print("esergui batch: error: --jobs must be at least 1", file=sys.stderr)
        return 2
    inputs = collect_inputs(args.inputs)
    if not inputs:
        print(f"esergui batch: error: no audio files in {', '.join(args.inputs)}", file=sys.stderr)
        return 2
    ws = None
    if args.workspace:
        from esergui.workspace import Workspace

        ws = Workspace.open(args.workspace)
    try:
        model_path = args.model or _active_model(ws)
        threads = args.threads or (default_threads(args.jobs) if args.scheduler in (None, "local") else None)
        config = make_config(args.out, model_path, args.device, threads)
        return _run(args, inputs, config, ws, tqdm, run_batch)
    finally:
        if ws is not None:
            ws.close()


def _active_model(ws: Workspace | None) -> str | None:
    if ws is None or ws.active_model is None:
        return None
    from esergui.models import active_model_path

    path = active_model_path(ws)
    return str(path) if path is not None else None


def _run(args: argparse.Namespace, inputs: list, config: Any, ws: Workspace | None, tqdm: Any, run_batch: Any) -> int:
    bars: dict[str, Any] = {}
    counts = {"done": 0, "failed": 0}
    durations: dict[str, float] = {}
    hashing = tqdm(total=len(inputs), desc="checking", unit="file", file=sys.stderr, disable=args.quiet, leave=False)

    def on_planned(plan: Any) -> None:
        hashing.close()
        durations.update({t.key: t.duration_s for t in plan.todo})
        if not args.quiet:
            extra = f", {len(plan.done)} already done" if plan.done else ""
            extra += f", {len(plan.duplicates)} duplicate recordings analysed once" if plan.duplicates else ""
            print(
                f"esergui batch: {len(plan.todo)} lessons to analyse ({sum(durations.values()) / 3600:.1f} h of audio){extra}",
                file=sys.stderr,
                flush=True,
            )
        bars["main"] = tqdm(
            total=sum(durations.values()) / 60,
            desc="analysing",
            unit="audio min",
            file=sys.stderr,
            disable=args.quiet or not plan.todo,
            dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} audio min [{elapsed}<{remaining}{postfix}]",
        )

    def on_outcome(outcome: Any) -> None:
        counts["done" if outcome.ok else "failed"] += 1
        bar = bars["main"]
        bar.update(min(durations.get(outcome.key, 0.0) / 60, bar.total - bar.n))  # float sums may overshoot
        bar.set_postfix_str(f"{counts['done']} done, {counts['failed']} failed")

    try:
        result = run_batch(
            inputs,
            config,
            jobs=args.jobs,
            scheduler=args.scheduler,
            resume=args.resume,
            workspace=ws,
            on_file=lambda _lesson: hashing.update(1),
            on_planned=on_planned,
            on_outcome=on_outcome,
        )
    finally:
        hashing.close()
        if "main" in bars:
            bars["main"].close()
    if not args.quiet:
        print(
            f"esergui batch: {result.analysed} analysed, {len(result.plan.done)} resumed, {len(result.failures)} failed "
            f"in {result.wall_s:.0f} s -> {result.written['summaries']}, {result.written['utterances']}",
            file=sys.stderr,
        )
    if result.failures:
        print(f"esergui batch: {len(result.failures)} failed:", file=sys.stderr)
        for failure in result.failures:
            named = failure.path in failure.reason  # "<file> is corrupt ..." names it already
            print(f"  {failure.reason}" if named else f"  {failure.path}: {failure.reason}", file=sys.stderr)
        return 1
    return 0
