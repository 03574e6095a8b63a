"""Recording benchmarks: memory over a long recording, latencies on a real device, what a kill loses.

    .venv/bin/python bench/recording_bench.py long --minutes 60 --speed 30   # memory, accelerated
    .venv/bin/python bench/recording_bench.py device --seconds 30           # null-sink device
    .venv/bin/python bench/recording_bench.py kill --runs 5                 # SIGKILL loss

``long`` feeds the Recorder from a paced stream (``stream_factory``) that delivers EmoDB speech
at ``speed`` x real time in 1024-frame blocks, 44.1 kHz stereo, while a LiveMonitor is updated
every 50 ms as the GUI would; RSS is sampled every 5 recorded minutes. ``device`` and ``kill``
use the private PulseAudio null sink (tests/sound_server.sh). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATE, CHANNELS, BLOCK = 44100, 2, 1024


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def speech_stereo(seconds: float = 60.0) -> np.ndarray:
    """EmoDB sentences at 44.1 kHz stereo int16, ``seconds`` long (tiled)."""
    import soundfile as sf
    import soxr

    from esergui.paths import emodb_dir

    files = sorted((emodb_dir() / "wav").glob("*.wav"))[:40]
    parts = [sf.read(f, dtype="float32")[0] for f in files]
    mono = soxr.resample(np.concatenate(parts), 16000, RATE)
    mono = np.tile(mono, int(np.ceil(seconds * RATE / len(mono))))[: int(seconds * RATE)]
    return (np.stack([mono, 0.8 * mono], axis=1) * 0.5 * 32767).astype(np.int16)


class PacedStream:
    """A stand-in for ``sounddevice.InputStream`` that plays ``source`` (looped) at ``speed`` x."""

    def __init__(self, source: np.ndarray, speed: float, total_frames: int, **kw: Any) -> None:
        self.source, self.speed, self.total = source, speed, total_frames
        self.callback, self.finished = kw["callback"], kw["finished_callback"]
        self._stop = threading.Event()
        self.fed = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.perf_counter()
        pos = 0
        while not self._stop.is_set() and self.fed < self.total:
            idx = (np.arange(BLOCK) + pos) % len(self.source)
            self.callback(self.source[idx], BLOCK, None, 0)
            pos += BLOCK
            self.fed += BLOCK
            ahead = self.fed / RATE / self.speed - (time.perf_counter() - t0)
            if ahead > 0:
                time.sleep(ahead)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def close(self) -> None:
        pass


def bench_long(minutes: float, speed: float, fmt: str, folder: Path) -> None:
    from esergui.recording import InputDevice, LiveMonitor, Recorder

    source = speech_stereo()
    total = int(minutes * 60 * RATE)
    streams: list[PacedStream] = []

    def factory(**kw: Any) -> PacedStream:
        streams.append(PacedStream(source, speed, total, **kw))
        return streams[-1]

    device = InputDevice(-1, "paced EmoDB speech", "bench", RATE, CHANNELS, True)
    path = folder / f"long.{fmt}"
    rec = Recorder(path, device, stream_factory=factory)
    print(f"\n### {minutes:g} min, 44.1 kHz stereo, {fmt.upper()}, fed at {speed:g}x real time\n")
    print("| recorded (min) | RSS (MB) | file (MB) |\n|---:|---:|---:|")
    base = rss_mb()
    rec.start()
    monitor = LiveMonitor(rec.ring, rec.samplerate)
    next_mark, t0, samples = 0.0, time.perf_counter(), []
    while streams[0].fed < total:
        monitor.update()
        rec_min = rec.elapsed_s / 60
        if rec_min >= next_mark:
            size = path.stat().st_size / 1e6
            samples.append(rss_mb())
            print(f"| {rec_min:.1f} | {samples[-1]:.1f} | {size:.1f} |", flush=True)
            next_mark += 5
        time.sleep(0.05)
    time.sleep(0.3)
    result = rec.stop()
    wall = time.perf_counter() - t0
    print(f"| {result.seconds / 60:.1f} (end) | {rss_mb():.1f} | {path.stat().st_size / 1e6:.1f} |")
    print(
        f"\nRSS before start {base:.1f} MB; frames fed {streams[0].fed}, written {result.frames}, "
        f"dropped {result.dropped_frames}; wall {wall:.0f} s; writer max write "
        f"{rec.stats['max_write_s'] * 1e3:.1f} ms, max flush {rec.stats['max_flush_s'] * 1e3:.1f} ms, "
        f"max backlog {rec.stats['max_backlog_frames'] / RATE * 1e3:.0f} ms of audio"
    )
    path.unlink()


def start_sound() -> str:
    proc = subprocess.run(
        ["bash", str(ROOT / "tests" / "sound_server.sh"), "start"], capture_output=True, text=True, check=True
    )
    server = proc.stdout.strip().rsplit("=", 1)[-1]
    os.environ["PULSE_SERVER"] = server
    return server


def stop_sound() -> None:
    """Stop the sound server if :func:`start_sound` (this process) started it."""
    subprocess.run(["bash", str(ROOT / "tests" / "sound_server.sh"), "stop"], check=False)


def bench_device(seconds: float, folder: Path) -> None:
    from esergui.recording import LiveMonitor, Recorder, refresh_devices

    start_sound()
    refresh_devices()
    timings: list[float] = []
    sizes: list[int] = []

    class TimedRecorder(Recorder):
        def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
            t = time.perf_counter()
            super()._callback(indata, frames, time_info, status)
            timings.append(time.perf_counter() - t)
            sizes.append(frames)

    path = folder / "device.flac"
    rec = TimedRecorder(path, "pulse")
    rec.start()
    rec.wait_for_audio(10)
    monitor = LiveMonitor(rec.ring, rec.samplerate)
    wavs = sorted(
        (Path(os.environ.get("ESER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "emodb" / "wav").glob("*.wav")
    )
    player = subprocess.Popen(["bash", "-c", " ; ".join(f"paplay {w}" for w in wavs[:40])])
    updates: list[float] = []
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        t = time.perf_counter()
        monitor.update()
        updates.append(time.perf_counter() - t)
        time.sleep(0.05)
    player.kill()
    player.wait()
    result = rec.stop()
    cb = np.array(timings) * 1e6
    up = np.array(updates) * 1e3
    print(f"\n### Null-sink device, {seconds:g} s, {rec.samplerate} Hz {rec.channels} ch FLAC\n")
    print("| figure | value |\n|---|---:|")
    print(f"| callback blocks | {len(cb)} (frames per block: {min(sizes)}-{max(sizes)}) |")
    print(f"| callback time, median / max | {np.median(cb):.0f} / {cb.max():.0f} us |")
    print(
        f"| writer: max write / max flush | {rec.stats['max_write_s'] * 1e3:.2f} / {rec.stats['max_flush_s'] * 1e3:.2f} ms |"
    )
    print(
        f"| writer: max backlog (capture -> file) | {rec.stats['max_backlog_frames'] / rec.samplerate * 1e3:.0f} ms |"
    )
    print(f"| monitor update (levels + VAD + waveform), median / max | {np.median(up):.2f} / {up.max():.2f} ms |")
    print(f"| input overflows / dropped frames | {result.input_overflows} / {result.dropped_frames} |")
    path.unlink()


CHILD = r"""
import sys, time
from esergui.recording import Recorder, refresh_devices
refresh_devices()
rec = Recorder(sys.argv[1], "pulse")
rec.start()
rec.wait_for_audio(10)
while True:
    print(rec.frames_recorded, flush=True)
    time.sleep(0.05)
"""


def bench_kill(runs: int, folder: Path) -> None:
    import soundfile as sf

    from esergui.recording import repair_recording

    start_sound()
    print("\n### SIGKILL mid-recording (null-sink device, 44.1 kHz stereo)\n")
    print("| format | run | frames reported before kill | frames after repair | lost (ms) |\n|---|---:|---:|---:|---:|")
    for fmt in ("wav", "flac"):
        for run in range(runs):
            path = folder / f"kill{run}.{fmt}"
            proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
            )
            assert proc.stdout is not None
            last, t0 = 0, None
            for line in proc.stdout:
                last = int(line)
                if last and t0 is None:
                    t0 = time.monotonic()
                if t0 is not None and time.monotonic() - t0 > 2.0 + 0.37 * run:
                    break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            result = repair_recording(path)
            rate = sf.info(path).samplerate
            print(
                f"| {fmt.upper()} | {run + 1} | {last} | {result.frames} | {(last - result.frames) / rate * 1e3:.0f} |"
            )
            path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("long")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--speed", type=float, default=30)
    p.add_argument("--format", default="flac", choices=["flac", "wav"])
    p = sub.add_parser("device")
    p.add_argument("--seconds", type=float, default=30)
    p = sub.add_parser("kill")
    p.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eser-recbench-") as tmp:
        folder = Path(tmp)
        if args.what == "long":
            bench_long(args.minutes, args.speed, args.format, folder)
        elif args.what == "device":
            bench_device(args.seconds, folder)
        else:
            bench_kill(args.runs, folder)
    if args.what != "long":
        stop_sound()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
