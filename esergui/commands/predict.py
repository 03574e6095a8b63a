"""``esergui predict FILE [FILE ...] [--csv OUT]``: classify each file as one utterance."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "predict"
HELP = "classify the emotion of each audio file (one utterance per file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files (any common format)")
    parser.add_argument(
        "--csv", metavar="OUT", help="write file,emotion,confidence,p_<label>...,arousal,valence here (default: print)"
    )
    parser.add_argument("--model", metavar="FILE", help="model file (default: the bundled ESERNet)")
    parser.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda or mps")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--same-speaker",
        action="store_true",
        help="all files are one speaker (speaker-normalised models then use that speaker's "
        "statistics over all files; by default each file is normalised on its own)",
    )


def run(args: argparse.Namespace) -> int:
    from esergui.audio import load_audio
    from model.affect import affect_matrix
    from model.inference import EmotionRecognizer

    rec = EmotionRecognizer.load(args.model, device=args.device)
    wavs = [load_audio(Path(f)) for f in args.files]
    probs = rec.predict(
        wavs, batch_size=args.batch_size, speakers=["speaker"] * len(wavs) if args.same_speaker else None
    )
    from esergui.formats.csvout import csv_text, write_rows

    header = ["file", "emotion", "confidence"] + [f"p_{lab}" for lab in rec.labels] + ["arousal", "valence"]
    affect = affect_matrix(probs, rec.labels)  # model.affect: NaN (empty cell) for labels without a point
    rows = []
    for f, p, av in zip(args.files, probs, affect):
        k = int(p.argmax())
        rows.append([f, rec.labels[k], float(p[k])] + [float(v) for v in p] + [float(v) for v in av])
    if args.csv:  # the one CSV writer: quoted, spreadsheet-safe, written all or nothing
        write_rows(header, rows, args.csv)
        print(f"{len(rows)} files classified with {rec.model_name} on {rec.device_name}; wrote {args.csv}")
    else:
        sys.stdout.write(csv_text(header, rows).replace("\r\n", "\n"))
    return 0
