"""End-to-end benchmark: a synthetic lesson through the whole analysis pipeline.

    .venv/bin/python -m bench.e2e_bench                 # 45-minute lesson + 3-hour peak memory
    .venv/bin/python -m bench.e2e_bench --minutes 10 --no-long   # quicker

A 45-minute lesson is built with :func:`bench.synth.build_lesson` (EmoDB speech: a teacher and
three students, pauses of 0.6-3 s, room noise at 20 dB SNR) and written as 16 kHz mono FLAC.
Each measurement runs in a fresh child process (``esergui.pipeline.Pipeline.analyze`` with
the stages that exist, device ``cpu`` unless ``--device``), which reports wall time per stage
its CPU time (all threads; a fairer figure when other jobs share the machine) and its peak
resident memory (``VmHWM``). The 3-hour lesson is the 45-minute one written four
times in a row (streamed to disk, so the builder's memory does not count).

Prints a Markdown table (paste it into docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def child(audio: str, device: str, threads: int) -> None:
    """Run the pipeline once and print a JSON line of figures."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    from esergui.pipeline import Pipeline, PipelineSettings

    pipe = Pipeline(PipelineSettings(device=device))
    t0 = time.perf_counter()
    skipped = pipe.prepare()
    load_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    result = pipe.analyze(audio)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        json.dumps(
            {
                "duration_s": result.duration_s,
                "wall_s": wall,
                "cpu_s": cpu,
                "load_s": load_s,
                "timings": result.run.timings_s,
                "skipped": skipped,
                "utterances": len(result.utterances),
                "speakers": len(result.speakers),
                "device": pipe.device,
                "peak_rss_mb": _peak_rss_mb(),
                "torch_threads": torch.get_num_threads(),
            }
        )
    )


def _run_child(audio: Path, device: str, threads: int) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "bench.e2e_bench",
        "--child",
        str(audio),
        "--device",
        device,
        "--threads",
        str(threads),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build(minutes: float, folder: Path, long_copies: int) -> tuple[Path, Path | None, float]:
    import soundfile as sf

    from bench.synth import build_lesson

    short = folder / f"lesson_{minutes:g}min.flac"
    long_path = folder / f"lesson_{minutes * long_copies:g}min.flac" if long_copies > 1 else None
    if short.is_file() and (long_path is None or long_path.is_file()):
        return short, long_path, 0.0  # --keep DIR from an earlier run: the same lessons (seed 45)
    t0 = time.perf_counter()
    lesson = build_lesson(seed=45, duration_s=minutes * 60, noise="room", snr_db=20.0)
    build_s = time.perf_counter() - t0
    sf.write(short, lesson.audio, lesson.sr, subtype="PCM_16")
    if long_path is not None:
        with sf.SoundFile(long_path, "w", lesson.sr, 1, subtype="PCM_16") as fh:
            for _ in range(long_copies):
                fh.write(lesson.audio)
    return short, long_path, build_s


def _row(name: str, r: dict) -> str:
    t = r["timings"]
    stages = " | ".join(f"{t[s]:.1f}" if s in t else "skipped" for s in ("decode", "segment", "speakers", "emotions"))
    rtf = r["duration_s"] / r["wall_s"] if r["wall_s"] > 0 else float("inf")
    return (
        f"| {name} | {r['utterances']} | {stages} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
        f"{rtf:.0f}x | {r['peak_rss_mb']:.0f} MB |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=45.0)
    ap.add_argument(
        "--long-copies", type=int, default=4, help="the long lesson is this many copies (default 4: 3 hours)"
    )
    ap.add_argument("--no-long", action="store_true", help="skip the long lesson")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch threads in the child (default: torch's choice)")
    ap.add_argument("--keep", metavar="DIR", help="write the lessons here and keep them (reused when already there)")
    ap.add_argument("--child", metavar="AUDIO", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.device, args.threads)
        return 0
    with tempfile.TemporaryDirectory(prefix="e2e-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        short, long_path, build_s = build(args.minutes, folder, 1 if args.no_long else args.long_copies)
        results = [("short", _run_child(short, args.device, args.threads))]
        if long_path is not None:
            results.append(("long", _run_child(long_path, args.device, args.threads)))
    first = results[0][1]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; device {first['device'] or 'none'}; "
        f"torch threads {first['torch_threads']}; lesson built in {build_s:.0f} s; model/stage load {first['load_s']:.1f} s (not timed below)"
    )
    skipped = first["skipped"]
    print("stages skipped: " + (", ".join(f"{k} ({v})" for k, v in skipped.items()) if skipped else "none"))
    print()
    print(
        "| lesson | utterances | decode s | segment s | speakers s | emotions s | total wall s | CPU s (all threads) | speed (x real time, wall) | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results:
        title = (
            f"{args.minutes:g}-minute synthetic lesson"
            if name == "short"
            else f"{args.minutes * args.long_copies / 60:g}-hour ({args.long_copies} x {args.minutes:g} min)"
        )
        print(_row(title, r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
