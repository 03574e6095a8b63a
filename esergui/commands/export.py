"""``esergui export``: write lessons of a workspace in researchers' formats, without re-analysis.

``esergui export --workspace DIR --lesson NAME|ID|all [--lesson ...] --format eaf,textgrid,rttm,
audacity,csv,json --out DIR`` writes what the workspace holds (human edits applied) and prints,
per lesson, which files it wrote. Formats and files: ``docs/FORMATS.md``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from esergui.lesson import Lesson
    from esergui.workspace import Workspace

NAME = "export"
HELP = "write workspace lessons as ELAN, Praat, RTTM, Audacity-label, CSV or JSON files (no re-analysis)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", required=True, metavar="DIR", help="the workspace folder")
    parser.add_argument(
        "--lesson",
        action="append",
        required=True,
        metavar="NAME|ID|all",
        help="lesson to export: its name, its id or 'all' (repeatable)",
    )
    parser.add_argument(
        "--format",
        default="csv",
        metavar="LIST",
        help="comma-separated: eaf, textgrid, rttm, audacity, csv, json (default: csv)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the files (created if missing)")
    parser.add_argument(
        "--tiers",
        choices=["fields", "speakers"],
        default="fields",
        help="eaf/textgrid layout: one tier per field (default) or per speaker and field",
    )
    parser.add_argument("--csv-bom", action="store_true", help="start CSVs with a UTF-8 byte-order mark (Excel)")
    parser.add_argument(
        "--csv-semicolon",
        action="store_true",
        help="CSVs with ';' between cells and a decimal comma (European spreadsheets)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def find_lessons(ws: Workspace, specs: list[str]) -> list[Lesson]:
    """Lessons named by ``specs`` (name, id or ``all``), in workspace order, each once.
    Raises :class:`esergui.errors.EserError` for a spec that matches none."""
    from esergui.errors import EserError

    lessons = ws.lessons()
    chosen: list[Any] = []
    for spec in specs:
        if spec.strip().lower() == "all":
            found = lessons
        else:
            found = [x for x in lessons if x.name == spec] or [
                x for x in lessons if spec.isdigit() and x.id == int(spec)
            ]
        if not found:
            names = ", ".join(f"{x.id}: {x.name}" for x in lessons[:10]) or "none"
            raise EserError(f"no lesson '{spec}' in {ws.folder} (lessons: {names})")
        chosen += [x for x in found if x.id not in {c.id for c in chosen}]
    return chosen


def run(args: argparse.Namespace) -> int:
    from esergui.formats.csvout import CsvOptions
    from esergui.formats.exporting import ExportOptions, check_formats, export_workspace
    from esergui.lesson import stored_id
    from esergui.workspace import Workspace

    formats = check_formats(f for f in args.format.split(",") if f.strip())
    options = ExportOptions(CsvOptions(bom=args.csv_bom, semicolon=args.csv_semicolon), args.tiers)
    with Workspace.open(args.workspace, create=False) as ws:
        lessons = find_lessons(ws, args.lesson)
        results = export_workspace(ws, [stored_id(x.id) for x in lessons], args.out, formats, options)
    if not args.quiet:
        for r in results:
            print(f"{r.lesson} -> {', '.join(str(p) for p in r.files)}")
            if r.clipped or r.dropped:
                print(
                    f"esergui export: {r.lesson}: overlapping utterances on one tier: {r.clipped} clipped, "
                    f"{r.dropped} left off (use --tiers speakers to keep speakers apart)",
                    file=sys.stderr,
                )
    return 0
