"""Diarization error rate (DER) and Jaccard error rate (JER) of the whole speech + speaker chain
on the real recordings we have, scored with pyannote.metrics (collar 0.25 s, overlap scored).

* ``conversation``: ``$ESER_SHARED_DATA/conversation/sample.wav`` (30 s, 2 real speakers, RTTM);
* ``diarization``: ``diarizationExample.wav`` (42 s, 4 speakers) and ``diarizationExample2.wav``
  (22 s, 6 speakers) with ``reference.rttm``. Their reference turns cover the whole file with no
  gaps, so pauses count as missed speech in their DER;
* ``demo``: the bundled demo lesson (``resources/demo/``, espeak-ng voices, per-sentence truth),
  plus how much of each student's speech went to the teacher's speaker.

    .venv/bin/python bench/der_bench.py                  # VAD segments (the pipeline's chain)
    .venv/bin/python bench/der_bench.py --oracle         # reference turns as segments (speaker stage alone)

Nothing here was used to choose a setting of the speaker stage: its rules are fixed a priori or
chosen on the synthetic lessons of ``bench/speaker_bench.py`` (see docs/SPEAKERS.md).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reference import RefTurn, read_rttm  # noqa: E402
from esergui.audio import load_audio  # noqa: E402
from esergui.paths import DEMO_LESSON, shared_data_dir  # noqa: E402

COLLAR_S = 0.25
SR = 16000


@dataclass
class Recording:
    group: str
    name: str
    audio: np.ndarray
    reference: list[RefTurn]


def recordings() -> list[Recording]:
    """The real recordings with references that exist here, and the demo lesson."""
    out = []
    conv = shared_data_dir() / "conversation"
    if (conv / "sample.wav").is_file():
        out.append(
            Recording("conversation", "sample", load_audio(conv / "sample.wav"), read_rttm(conv / "sample.rttm"))
        )
    dia = shared_data_dir() / "diarization"
    if (dia / "reference.rttm").is_file():
        for wav in sorted(dia.glob("*.wav")):
            turns = read_rttm(dia / "reference.rttm", wav.stem)
            out.append(Recording("diarization", wav.stem, load_audio(wav), turns))
    rows = list(csv.DictReader((DEMO_LESSON.parent / "demo_lesson_truth.csv").open()))
    out.append(
        Recording(
            "demo",
            "demo_lesson",
            load_audio(DEMO_LESSON),
            [RefTurn(float(r["start_s"]), float(r["end_s"]), r["speaker"]) for r in rows],
        )
    )
    return out


def annotation(turns: Sequence[Any], uri: str, label: str = "speaker") -> Any:
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, t in enumerate(turns):
        if t.end_s > t.start_s:
            ann[Segment(float(t.start_s), float(t.end_s)), i] = str(getattr(t, label))
    return ann


def diarize(audio: np.ndarray, oracle: Sequence[RefTurn] | None = None) -> tuple[list[Any], float]:
    """The pipeline's chain (speech segments -> speaker turns), or speaker turns on ``oracle``
    segments (overlapping reference turns merged); returns the turns and the seconds taken."""
    from esergui.segment import segment_speech
    from esergui.speakers import attribute_speakers

    t0 = time.perf_counter()
    if oracle is None:
        segments: list[Any] = list(segment_speech(audio))
    else:
        segments = merged_spans(oracle)
    turns = attribute_speakers(audio, segments)
    return turns, time.perf_counter() - t0


@dataclass(frozen=True)
class _Span:
    start_s: float
    end_s: float


def merged_spans(turns: Sequence[RefTurn]) -> list[_Span]:
    out: list[list[float]] = []
    for t in sorted(turns, key=lambda t: t.start_s):
        if out and t.start_s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], t.end_s)
        else:
            out.append([t.start_s, t.end_s])
    return [_Span(a, b) for a, b in out]


def student_to_teacher_share(reference: Sequence[RefTurn], turns: Sequence[Any]) -> dict[str, float]:
    """Per reference speaker other than ``teacher``: the share of their time given the role
    ``teacher`` (demo lesson)."""
    out = {}
    for name in sorted({t.speaker for t in reference} - {"teacher"}):
        total = hit = 0.0
        for r in (t for t in reference if t.speaker == name):
            total += r.end_s - r.start_s
            for h in turns:
                if h.role == "teacher":
                    hit += max(0.0, min(r.end_s, h.end_s) - max(r.start_s, h.start_s))
        out[name] = hit / max(total, 1e-9)
    return out


def run(oracle: bool) -> None:
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    groups: dict[str, tuple[Any, Any]] = {}
    print("| recording | speakers found (truth) | DER % | miss % | false alarm % | confusion % | JER % | time s |")
    print("|---|---|---|---|---|---|---|---|")
    for rec in recordings():
        turns, secs = diarize(rec.audio, rec.reference if oracle else None)
        ref, hyp = annotation(rec.reference, rec.name), annotation(turns, rec.name)
        der = DiarizationErrorRate(collar=COLLAR_S, skip_overlap=False)
        jer = JaccardErrorRate(collar=COLLAR_S, skip_overlap=False)
        d = der(ref, hyp, detailed=True)
        j = jer(ref, hyp)
        pooled = groups.setdefault(
            rec.group,
            (
                DiarizationErrorRate(collar=COLLAR_S, skip_overlap=False),
                JaccardErrorRate(collar=COLLAR_S, skip_overlap=False),
            ),
        )
        pooled[0](ref, hyp)
        pooled[1](ref, hyp)
        total = max(d["total"], 1e-9)
        print(
            f"| {rec.group}: {rec.name} | {len({t.speaker for t in turns})} ({len({t.speaker for t in rec.reference})}) | "
            f"{100 * d['diarization error rate']:.1f} | {100 * d['missed detection'] / total:.1f} | "
            f"{100 * d['false alarm'] / total:.1f} | {100 * d['confusion'] / total:.1f} | {100 * j:.1f} | {secs:.1f} |"
        )
        if rec.group == "demo":
            shares = student_to_teacher_share(rec.reference, turns)
            demo_line = ", ".join(f"{k} {100 * v:.0f} %" for k, v in shares.items())
    print()
    for group, (der, jer) in groups.items():
        print(f"* {group}, pooled over its files: DER {100 * abs(der):.1f} %, JER {100 * abs(jer):.1f} %")
    print(f"* demo lesson, share of each student's speech given the teacher role: {demo_line}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oracle", action="store_true", help="reference turns as the speech segments")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    print(
        f"Segments: {'reference turns (oracle)' if args.oracle else 'esergui.segment (VAD)'}; "
        f"pyannote.metrics DER/JER, collar {COLLAR_S} s, overlap scored.\n"
    )
    run(args.oracle)


if __name__ == "__main__":
    main()
