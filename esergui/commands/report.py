"""``esergui report``: a one-page lesson report (PDF or PNG) and/or a timeline figure for papers.

The lesson comes from a workspace (``--workspace DIR --lesson NAME|ID``, human edits
included) or from an audio file, analysed first (``esergui report lesson.m4a --out r.pdf``).
``--figure FILE`` writes the emotion timeline alone (PNG, PDF or SVG) with ``--figure-size``,
``--dpi``, ``--from``/``--to`` and ``--title``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "report"
HELP = "write a one-page lesson report (PDF/PNG) and/or an emotion timeline figure for papers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "audio",
        nargs="?",
        metavar="AUDIO",
        help="a lesson recording to analyse and report on (instead of --workspace/--lesson)",
    )
    parser.add_argument("--workspace", metavar="DIR", help="workspace that holds the lesson")
    parser.add_argument("--lesson", metavar="NAME|ID", help="the workspace lesson to report on")
    parser.add_argument("--out", metavar="FILE", help="the report: FILE.pdf or FILE.png (one A4 page)")
    fig = parser.add_argument_group("figure for papers")
    fig.add_argument("--figure", metavar="FILE", help="write the emotion timeline as FILE.png, .pdf or .svg")
    fig.add_argument(
        "--figure-size", default="180x65mm", metavar="WxH[mm|cm|in]", help="figure size (default: 180x65mm)"
    )
    fig.add_argument("--dpi", type=int, default=300, help="resolution of PNG figures, dots per inch (default: 300)")
    fig.add_argument("--from", dest="start", metavar="TIME", help="start of the range shown (seconds or m:ss)")
    fig.add_argument("--to", dest="end", metavar="TIME", help="end of the range shown (seconds or m:ss)")
    fig.add_argument("--title", help="figure title (default: '<lesson>: emotion by role'; '' for none)")
    fig.add_argument("--lanes", choices=["role", "speaker"], default="role", help="one lane per role or per speaker")
    fig.add_argument("--no-arousal", action="store_true", help="leave the arousal curve out of the figure")
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="compute device when analysing AUDIO (default: auto)",
    )
    parser.add_argument("--model", metavar="FILE", help="emotion model file when analysing AUDIO (default: bundled)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _fail(message: str) -> int:
    print(f"esergui report: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from esergui.report import FigureSize, figure_export, from_workspace, lesson_report, parse_time
    from esergui.report.page import REPORT_FORMATS
    from esergui.report.save import output_format

    if not args.out and not args.figure:
        return _fail("nothing to write: give --out FILE.pdf|.png and/or --figure FILE.png|.pdf|.svg")
    if bool(args.audio) == bool(args.lesson):
        return _fail("give either an AUDIO file or --workspace DIR --lesson NAME|ID")
    if args.lesson and not args.workspace:
        return _fail("--lesson needs --workspace DIR")
    if args.audio and args.workspace:
        return _fail("--workspace goes with --lesson; to report on a file of the workspace, give its lesson name")
    # Check every option before a possibly long analysis.
    if args.out:
        output_format(args.out, None, REPORT_FORMATS)
    if args.figure:
        output_format(args.figure, None)
        size = FigureSize.parse(args.figure_size)
    start = parse_time(args.start) if args.start else None
    end = parse_time(args.end) if args.end else None

    if args.lesson:
        from esergui.workspace import Workspace

        with Workspace.open(args.workspace, create=False) as ws:
            lesson = from_workspace(ws, args.lesson)
    else:
        lesson = _analyse(Path(args.audio), args)
    written = []
    if args.out:
        written.append(lesson_report(lesson, None, args.out))
    if args.figure:
        written.append(
            figure_export(
                lesson,
                args.figure,
                start_s=start,
                end_s=end,
                size=size,
                dpi=args.dpi,
                title=args.title,
                by=args.lanes,
                arousal=False if args.no_arousal else None,
            )
        )
    if not args.quiet:
        for path in written:
            print(path, flush=True)
    return 0


def _analyse(path: Path, args: argparse.Namespace):  # noqa: ANN202 (a ReportLesson; imported lazily)
    from esergui.pipeline import Pipeline, PipelineSettings
    from esergui.report import from_analysis

    pipeline = Pipeline(PipelineSettings(device=args.device, model_path=args.model))
    skipped = pipeline.prepare()
    if not args.quiet:
        for stage, reason in skipped.items():
            print(f"esergui report: skipping {stage}: {reason}", file=sys.stderr)
        print(f"esergui report: analysing {path.name} ...", file=sys.stderr, flush=True)
    return from_analysis(pipeline.analyze(path))
