"""``esergui import``: an annotation file becomes the human annotation layer of a workspace lesson.

``esergui import FILE --workspace DIR --lesson NAME|ID`` reads an ELAN ``.eaf``, a Praat
TextGrid, an RTTM file, an Audacity label file (``.txt``), an ESER Studio utterances CSV or
lesson JSON, and sets the human labels of the lesson from it (rules:
:mod:`esergui.formats.importing`). ``--list-tiers`` shows the tiers of an ``.eaf``/TextGrid;
``--tier NAME=FIELD`` (repeatable) chooses tiers and says what they hold. It prints what it did
and, before it, how far the model agrees with the file (Cohen's kappa).
"""

from __future__ import annotations

import argparse

NAME = "import"
HELP = "import ELAN, Praat, RTTM, Audacity-label or CSV annotations as a lesson's human labels"
FIELDS = ("emotion", "role", "speaker", "note", "codes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="annotation file (.eaf, .TextGrid, .rttm, .txt, .csv, .json)")
    parser.add_argument("--workspace", required=True, metavar="DIR", help="the workspace folder")
    parser.add_argument(
        "--lesson",
        metavar="NAME|ID",
        help="the lesson the annotations belong to (not needed in a one-lesson workspace)",
    )
    parser.add_argument("--list-tiers", action="store_true", help="list the tiers of an .eaf/TextGrid and stop")
    parser.add_argument(
        "--tier",
        action="append",
        default=[],
        metavar="NAME=FIELD",
        help=f"import tier NAME as FIELD ({', '.join(FIELDS)}); repeatable; default: tiers by name",
    )
    parser.add_argument(
        "--fields", default=",".join(FIELDS), metavar="LIST", help=f"which fields to set (default: {','.join(FIELDS)})"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace human labels the lesson already has")
    parser.add_argument("--annotator", metavar="NAME", help="who made the annotations (the edits' author)")
    parser.add_argument("--file-id", metavar="ID", help="RTTM: the recording to read when the file holds several")
    parser.add_argument(
        "--min-overlap",
        type=float,
        default=0.5,
        help="pair an annotation with an utterance overlapping this share of the shorter (default 0.5)",
    )


def _tier_map(specs: list[str]) -> dict[str, str]:
    from esergui.errors import EserError

    out = {}
    for spec in specs:
        name, sep, what = spec.rpartition("=")
        if not sep or not name or what.strip().lower() not in (*FIELDS, "notes"):
            raise EserError(f"--tier '{spec}': use NAME=FIELD with FIELD one of {', '.join(FIELDS)}")
        out[name] = what.strip().lower()
    return out


def run(args: argparse.Namespace) -> int:
    from esergui.commands.export import find_lessons
    from esergui.errors import EserError
    from esergui.formats.importing import apply_to_lesson, read_annotations, read_tiers
    from esergui.lesson import stored_id
    from esergui.workspace import Workspace

    if args.list_tiers:
        for t in read_tiers(args.file):
            who = f" (participant {t.participant})" if t.participant else ""
            print(f"{t.name}{who}: {len(t.intervals)} intervals")
        return 0
    fields = [f.strip().lower() for f in args.fields.split(",") if f.strip()]
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise EserError(f"--fields: unknown {', '.join(unknown)} (use {', '.join(FIELDS)})")
    with Workspace.open(args.workspace, create=False, user=args.annotator) as ws:
        if args.lesson:
            lessons = find_lessons(ws, [args.lesson])
        else:  # a workspace of one lesson needs no --lesson
            lessons = ws.lessons()
            if len(lessons) != 1:
                names = ", ".join(f"{x.id}: {x.name}" for x in lessons[:10]) or "none"
                raise EserError(f"say which lesson the annotations belong to (--lesson NAME|ID; lessons: {names})")
        if len(lessons) != 1:
            raise EserError(f"'{args.lesson}' names {len(lessons)} lessons; give the lesson id")
        lesson = lessons[0]
        items = read_annotations(args.file, _tier_map(args.tier) or None, lesson=lesson.name, file_id=args.file_id)
        report = apply_to_lesson(ws, stored_id(lesson.id), items, args.overwrite, args.min_overlap, fields)
    print(f"{args.file} -> lesson {lesson.id} '{lesson.name}' in {args.workspace}")
    for line in report.lines():
        print(line)
    return 0
