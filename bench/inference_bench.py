"""Inference throughput of the bundled ESERNet: seconds of audio per second of compute for
batches of 1, 8 and 64 EmoDB utterances, and the time to classify a 45-minute synthetic lesson's
utterances (bench/synth.py). Writes bench/results/inference.md.

    nice -n 10 .venv/bin/python -m bench.inference_bench [--device cpu|cuda|auto] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from bench.synth import build_lesson, load_emodb_index, read_clip
from model.inference import EmotionRecognizer

RESULTS = Path(__file__).resolve().parent / "results" / "inference.md"


def throughput(rec: EmotionRecognizer, clips: list[np.ndarray], batch: int, repeats: int) -> tuple[float, float, float]:
    """(audio s per wall s, audio s per CPU s of this process, wall ms per utterance)."""
    rec.predict(clips[:batch], batch_size=batch)  # warm-up
    audio_s, t, c = 0.0, 0.0, 0.0
    for r in range(repeats):
        sel = [clips[(r * batch + i) % len(clips)] for i in range(batch)]
        t0, c0 = time.perf_counter(), time.process_time()
        rec.predict(sel, batch_size=batch)
        t += time.perf_counter() - t0
        c += time.process_time() - c0
        audio_s += sum(len(c_) for c_ in sel) / 16000
    return audio_s / t, audio_s / c, 1000 * t / (repeats * batch)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", help="model file (default: the bundled model)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rec = EmotionRecognizer.load(args.model, device=args.device)
    rows = load_emodb_index()
    rng = np.random.default_rng(0)
    clips = [read_clip(rows[i]["file"]) for i in rng.permutation(len(rows))[:128]]
    lines = [
        "# ESERNet inference throughput",
        "",
        f"Model `{rec.model_name}` on {rec.device_name}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s), {platform.processor() or platform.machine()}; "
        f"load average at start {os.getloadavg()[0]:.1f}. "
        "With one thread, *audio s per CPU s* (this process's CPU time) is what an idle core "
        "would give; *per wall s* is what this machine gave at that load.",
        "",
        "| utterances per batch | audio s per wall s | audio s per CPU s | wall ms per utterance |",
        "|---|---|---|---|",
    ]
    for batch, repeats in ((1, 40), (8, 8), (64, 2)):
        sps, cps, ms = throughput(rec, clips, batch, repeats)
        lines.append(f"| {batch} | {sps:.0f} | {cps:.0f} | {ms:.1f} |")
        print(lines[-1], flush=True)
    lesson = build_lesson(seed=1, duration_s=45 * 60)
    utts = [lesson.audio[int(t.start_s * 16000) : int(t.end_s * 16000)] for t in lesson.truth]
    total = sum(len(u) for u in utts) / 16000
    # As the pipeline does: a speaker-normalised model reads each voice against its own statistics.
    speakers = [t.speaker for t in lesson.truth] if rec.speaker_normalised else None
    t0, c0 = time.perf_counter(), time.process_time()
    rec.predict(utts, speakers=speakers)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    how = f"with per-speaker statistics of its {len(set(speakers))} speakers gathered first, " if speakers else ""
    lines += [
        "",
        f"45-minute synthetic lesson (bench/synth.py, seed 1): {len(utts)} utterances, "
        f"{total / 60:.1f} min of speech, classified {how}in **{dt:.1f} s wall / {dc:.1f} s CPU** "
        f"(default batch size 32).",
        "",
        f"Command: `{' '.join(['.venv/bin/python -m bench.inference_bench'] + [f'--device {args.device}'] + ([f'--threads {args.threads}'] if args.threads else []))}`",
    ]
    print("\n".join(lines[-3:]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
