"""``esergui analyze``: analyse lesson recordings headless and write CSV tables.

For each AUDIO file: decode, segment, attribute speakers, recognise emotions (the stages that
exist), then write ``DIR/<lesson>_utterances.csv``, ``DIR/<lesson>_summary.csv`` and
``DIR/<lesson>_bins.csv``. With ``--workspace`` the lessons are also stored there (a file
already in the workspace is re-analysed, keeping every human edit, and the CSVs show the
edits). A file that fails gets one line on stderr; the others still complete; the exit code
is 1 when any failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TextIO

NAME = "analyze"
HELP = "analyse lesson recordings and write utterance and summary CSV files"

# Share of a file's progress bar per stage (renormalised over the stages that run).
_WEIGHTS = {"decode": 0.15, "segment": 0.15, "speakers": 0.2, "emotions": 0.5}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "audio", nargs="+", metavar="AUDIO", help="lesson recordings (wav, flac, ogg, mp3, m4a/aac, ...)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the CSV files (created if missing)")
    parser.add_argument(
        "--workspace", metavar="DIR", help="also store the lessons in this workspace (created if missing)"
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="compute device for the emotion model (default: auto)",
    )
    parser.add_argument(
        "--model", metavar="FILE", help="emotion model file (default: the active workspace model, else the bundled one)"
    )
    parser.add_argument(
        "--export",
        action="append",
        default=[],
        choices=["eaf", "textgrid", "rttm", "audacity", "json"],
        help="also write an ELAN .eaf, a Praat TextGrid, RTTM, Audacity labels or JSON per lesson (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


class Progress:
    """A bar per file on a terminal; plain stage lines otherwise; nothing when quiet."""

    def __init__(self, stream: TextIO, quiet: bool, active: list[str]) -> None:
        self.stream, self.quiet = stream, quiet
        self.tty = stream.isatty() and not quiet
        total = sum(_WEIGHTS[s] for s in active) or 1.0
        self.offsets: dict[str, tuple[float, float]] = {}
        acc = 0.0
        for stage in active:
            w = _WEIGHTS[stage] / total
            self.offsets[stage] = (acc, w)
            acc += w
        self._label, self._last = "", 0.0

    def start(self, label: str) -> None:
        self._label = label
        self._stage_t0: dict[str, float] = {}

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        if self.quiet:
            return
        if self.tty:
            now = time.monotonic()
            if fraction < 1.0 and now - self._last < 0.1:
                return
            self._last = now
            start, width = self.offsets.get(stage, (0.0, 0.0))
            overall = start + width * fraction
            filled = int(round(30 * overall))
            line = f"\r{self._label} [{'#' * filled}{'.' * (30 - filled)}] {100 * overall:3.0f}% {stage}: {message}"
            cols = _columns()
            self.stream.write(line[: cols - 1].ljust(min(cols - 1, 100)))
            self.stream.flush()
        elif fraction == 0.0 and message == "starting":
            self._stage_t0[stage] = time.monotonic()
        elif fraction >= 1.0 and message == "done":
            took = time.monotonic() - self._stage_t0.get(stage, time.monotonic())
            print(f"{self._label}: {stage} done ({took:.1f} s)", file=self.stream, flush=True)

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * min(_columns() - 1, 100) + "\r")
            self.stream.flush()


def _columns() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


def _unique_names(paths: list[Path]) -> list[str]:
    names, seen = [], set()
    for p in paths:
        name, k = p.stem, 2
        while name in seen:
            name, k = f"{p.stem}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def _one_line_warnings() -> None:
    """Show warnings (e.g. "the GPU failed; using the CPU") as one line each."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        print(f"esergui analyze: warning: {message}", file=sys.stderr, flush=True)

    warnings.showwarning = show


def run(args: argparse.Namespace) -> int:
    from esergui.errors import USER_ERRORS
    from esergui.formats.exporting import export_lesson, export_workspace
    from esergui.lesson import stored_id
    from esergui.pipeline import STAGES, Pipeline, PipelineSettings, analyze_into_workspace
    from esergui.workspace import Workspace

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"esergui analyze: cannot create {out}: {exc.strerror}", file=sys.stderr)
        return 2
    _one_line_warnings()
    ws = Workspace.open(args.workspace) if args.workspace else None
    model_path = args.model
    if model_path is None and ws is not None and ws.active_model is not None:
        from esergui.models import active_model_path  # the registry resolves moved workspaces

        active = active_model_path(ws)
        model_path = str(active) if active is not None else None
    pipeline = Pipeline(PipelineSettings(device=args.device, model_path=model_path))
    skipped = pipeline.prepare()
    if not args.quiet:
        for stage, reason in skipped.items():
            print(f"esergui analyze: skipping {stage}: {reason}", file=sys.stderr)
        if pipeline.device:
            print(f"esergui analyze: emotion model on {pipeline.device}", file=sys.stderr)
    progress = Progress(sys.stderr, args.quiet, [s for s in STAGES if s not in skipped])
    paths = [Path(a) for a in args.audio]
    failed = 0
    stems: set[str] = set()  # output file stems so far: no two inputs write the same files
    formats = ["csv", *args.export]
    try:
        for k, (path, name) in enumerate(zip(paths, _unique_names(paths)), 1):
            label = path.name if len(paths) == 1 else f"[{k}/{len(paths)}] {path.name}"
            progress.start(label)
            t0 = time.perf_counter()
            try:
                if ws is not None:
                    lesson_id = stored_id(ws.add_lesson(path, name=name).id)
                    result, _report = analyze_into_workspace(ws, lesson_id, pipeline, progress=progress)
                    [written] = export_workspace(ws, [lesson_id], out, formats, taken=stems)
                else:
                    result = pipeline.analyze(path, progress=progress)
                    written = export_lesson(
                        out,
                        name,
                        result.utterances,
                        result.duration_s,
                        result.labels,
                        result.speakers,
                        formats,
                        audio_path=str(path),
                        run=result.run,
                        taken=stems,
                    )
            except USER_ERRORS as exc:
                failed += 1
                progress.finish()
                print(f"esergui analyze: {path}: {exc}", file=sys.stderr, flush=True)
                continue
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # a bug: one line, the other files still run
                failed += 1
                progress.finish()
                print(
                    f"esergui analyze: {path}: internal error ({type(exc).__name__}: {exc})",
                    file=sys.stderr,
                    flush=True,
                )
                if os.environ.get("ESERGUI_DEBUG"):
                    traceback.print_exc()
                continue
            progress.finish()
            if not args.quiet:
                took = time.perf_counter() - t0
                print(
                    f"{path}: {len(result.utterances)} utterances, {result.duration_s / 60:.1f} min in {took:.1f} s "
                    f"-> {', '.join(str(p) for p in written.files)}",
                    flush=True,
                )
    finally:
        if ws is not None:
            ws.close()
    if failed:
        print(f"esergui analyze: {failed} of {len(paths)} files failed", file=sys.stderr)
        return 1
    return 0
