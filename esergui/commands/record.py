"""``esergui record``: record a lesson from a microphone, headless.

esergui record OUT.wav|OUT.flac [--device N|NAME] [--seconds S]   Ctrl+C stops and keeps the file
esergui record --list-devices                                      input devices, default marked
esergui record --repair FILE|FOLDER                                fix recordings a crash left behind
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from esergui.timefmt import format_clock

NAME = "record"
HELP = "record from a microphone into a WAV or FLAC file (Ctrl+C stops and keeps the file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", nargs="?", metavar="OUT", help="file to write: .wav or .flac")
    parser.add_argument(
        "--device",
        metavar="N|NAME",
        help="input device number or (part of its) name; default: the system default input",
    )
    parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds of audio")
    parser.add_argument("--rate", type=int, metavar="HZ", help="sample rate (default: the device's native rate)")
    parser.add_argument("--channels", type=int, metavar="N", help="channels (default: the device's, at most 2)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--list-devices", action="store_true", help="list the input devices and exit")
    parser.add_argument(
        "--repair", metavar="PATH", help="repair an unfinished recording (a file, or every one in a folder) and exit"
    )
    parser.add_argument("--quiet", action="store_true", help="no live level line")


def _list_devices() -> int:
    from esergui.recording import list_input_devices

    devices = list_input_devices()
    if not devices:
        print("No audio input device found.")
        return 1
    print(f"{'':2}{'#':>3}  {'name':<32} {'host API':<14} {'rate Hz':>8} {'channels':>8}")
    for d in devices:
        mark = "*" if d.is_default else " "
        print(
            f"{mark:2}{d.index:>3}  {d.name[:32]:<32} {d.hostapi[:14]:<14} {d.record_samplerate:>8} "
            f"{d.max_input_channels:>8}"
        )
    print("* = system default input")
    return 0


def _repair(target: str) -> int:
    """Repair one file, or every unfinished recording in a folder: each is repaired, removed
    (it held no audio) or skipped with the reason; exit 1 when any was skipped."""
    from esergui.errors import USER_ERRORS, AudioError
    from esergui.recording import EmptyRecording, find_unfinished, repair_recording

    path = Path(target)
    if not path.exists():
        raise AudioError(f"{path} does not exist.")
    items: list[Any] = find_unfinished(path) if path.is_dir() else [path]
    if not items:
        print(f"No unfinished recordings in {path}.")
        return 0
    skipped = 0
    for item in items:
        name = getattr(item, "path", item)
        try:
            result = repair_recording(item)
        except EmptyRecording as exc:
            print(f"Removed {name}: {exc}")
            continue
        except USER_ERRORS as exc:
            skipped += 1
            print(f"esergui record: skipped {name}: {exc}", file=sys.stderr)
            continue
        print(f"Repaired {result.path}: {result.seconds:.1f} s at {result.samplerate} Hz.")
    if skipped:
        print(
            f"esergui record: {skipped} of {len(items)} recordings could not be repaired (left as they are).",
            file=sys.stderr,
        )
    return 1 if skipped else 0


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from esergui.errors import AudioError
    from esergui.recording import LiveMonitor, Recorder, RecorderState, find_unfinished

    if args.list_devices:
        return _list_devices()
    if args.repair:
        return _repair(args.repair)
    if not args.output:
        raise AudioError("Give the file to record into (OUT.wav or OUT.flac), or --list-devices.")
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise AudioError(f"{out} already exists; choose another name or pass --overwrite.")
    if args.seconds is not None and args.seconds <= 0:
        raise AudioError("--seconds must be positive.")
    leftovers = find_unfinished(out.parent if str(out.parent) else Path("."))
    for item in leftovers:
        print(
            f"Note: {item.path} is an unfinished recording; `esergui record --repair {item.path}` makes it playable.",
            file=sys.stderr,
        )

    recorder = Recorder(
        out,
        args.device,
        samplerate=args.rate,
        channels=args.channels,
        max_seconds=args.seconds,
        overwrite=args.overwrite,
    )
    live = sys.stderr.isatty() and not args.quiet
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if hasattr(signal, "SIGTERM") else None
    try:
        recorder.start()
        print(
            f"Recording from '{recorder.device.name}' ({recorder.samplerate} Hz, {recorder.channels} ch) "
            f"into {out}; press Ctrl+C to stop.",
            file=sys.stderr,
        )
        if recorder.disk_warning:
            print(f"Warning: {recorder.disk_warning}", file=sys.stderr)
        monitor = LiveMonitor(recorder.ring, recorder.samplerate)
        try:
            while not recorder.wait(0.25):
                level = monitor.update()
                if live:
                    clip = "  CLIP" if level.clipped else ""
                    speech = "speech" if monitor.speech else "      "
                    print(
                        f"\r{format_clock(recorder.elapsed_s)}  peak {level.peak_dbfs:6.1f} dBFS  "
                        f"rms {level.rms_dbfs:6.1f} dBFS  {speech}{clip}   ",
                        end="",
                        file=sys.stderr,
                    )
        except KeyboardInterrupt:
            pass
        result = recorder.stop()
    finally:
        if recorder.state not in (RecorderState.IDLE, RecorderState.STOPPED):
            recorder.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if live:
        print(file=sys.stderr)
    print(
        f"Saved {out}: {result.seconds:.1f} s, {result.samplerate} Hz, {result.channels} ch"
        + (f"; {monitor.clip_count} clipped blocks" if monitor.clip_count else "")
        + (f"; {result.input_overflows} input overflows" if result.input_overflows else "")
        + "."
    )
    if result.error is not None:
        print(f"esergui record: error: {result.error}", file=sys.stderr)
        return 2
    return 0
