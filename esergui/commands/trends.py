"""``esergui trends``: figures per teacher (or class) over lesson dates, as a table and a plot.

SOURCE is a folder written by ``esergui batch`` (its ``all_summaries.csv`` and, when there,
``all_utterances.parquet``) or a lesson summary CSV with ``date`` and the grouping column.
Writes ``trends_by_<column>.csv`` and ``trends_by_<column>.png`` (default: into SOURCE's
folder). See :mod:`esergui.batch.trends` and ``docs/BATCH.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "trends"
HELP = "per teacher or class, talk share, student turns, wait-time proxies and arousal over lesson dates (table + plot)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE", help="an 'esergui batch' output folder, or a lesson summary CSV")
    parser.add_argument(
        "--by",
        default="teacher",
        metavar="COLUMN",
        help="group lessons by this column (default: teacher; e.g. class, subject)",
    )
    parser.add_argument("--out", metavar="DIR", help="folder for the table and the plot (default: the source's folder)")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from esergui.batch.combine import SUMMARIES_CSV, UTTERANCES_PARQUET
    from esergui.batch.files import write_csv
    from esergui.batch.trends import lesson_trends, plot_trends
    from esergui.formats.names import readable_stem

    source = Path(args.source)
    folder = source if source.is_dir() else source.parent
    summaries_csv = source / SUMMARIES_CSV if source.is_dir() else source
    if not summaries_csv.is_file():
        print(f"esergui trends: error: {summaries_csv} does not exist (run 'esergui batch' first)", file=sys.stderr)
        return 2
    summaries = pd.read_csv(summaries_csv, dtype={args.by: str, "date": str})
    parquet = folder / UTTERANCES_PARQUET
    utterances = pd.read_parquet(parquet, columns=None) if source.is_dir() and parquet.is_file() else None
    trends = lesson_trends(summaries, args.by, utterances)
    out = Path(args.out) if args.out else folder
    stem = f"trends_by_{readable_stem(args.by)}"
    table = write_csv(trends.table, out / f"{stem}.csv")
    plot = plot_trends(trends, out / f"{stem}.png")
    groups = trends.table[args.by].nunique()
    print(f"{len(trends.table)} rows ({groups} {args.by} groups) -> {table}, {plot}")
    if trends.undated:
        print(f"esergui trends: {trends.undated} lessons have no date and are left out", file=sys.stderr)
    return 0
