"""Decoding benchmark: speed per format for a 45-minute lesson, and peak memory (RSS) for
45-minute and 3-hour lessons, each decode in a fresh process.

    .venv/bin/python bench/decode_bench.py                 # 45-min formats + 3-hour WAV and mp3
    .venv/bin/python bench/decode_bench.py --quick         # 45-min formats only
    .venv/bin/python bench/decode_bench.py --long-only     # 3-hour files only
    .venv/bin/python bench/decode_bench.py --keep DIR      # keep the generated files in DIR

The lessons are a 10-minute synthetic lesson (``bench/synth.py``: EmoDB speech, room noise)
repeated, written in a temporary folder (a 3-hour 44.1 kHz stereo WAV is 1.9 GB) and removed
afterwards (``--keep DIR`` keeps them, and reuses them on the next run). Peak RSS is the child
process's VmHWM; "baseline" is that of a process that imported everything and decoded nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import SR, build_lesson  # noqa: E402

CHUNK_S = 10.0


def unit_lesson() -> np.ndarray:
    return build_lesson(seed=21, duration_s=600.0, noise="room", snr_db=20.0).audio


def chunks(unit: np.ndarray, minutes: float, rate: int) -> Iterator[np.ndarray]:
    """Yield ``minutes`` of the tiled lesson at ``rate`` in 10 s pieces (bounded memory)."""
    import soxr

    src = soxr.resample(unit, SR, rate).astype(np.float32) if rate != SR else unit
    total = int(minutes * 60 * rate)
    step = int(CHUNK_S * rate)
    pos = 0
    while pos < total:
        a = pos % src.size
        piece = src[a : a + min(step, total - pos)]
        yield piece
        pos += piece.size


def write_soundfile(path: Path, unit: np.ndarray, minutes: float, rate: int, channels: int, **kw) -> None:
    with sf.SoundFile(path, "w", rate, channels, **kw) as out:
        for piece in chunks(unit, minutes, rate):
            block = piece if channels == 1 else np.stack([piece, 0.8 * piece], axis=1)
            for a in range(0, len(block), rate):  # 1 s writes (large Vorbis writes crash libsndfile 1.2.2)
                out.write(block[a : a + rate])


def write_pyav(
    path: Path, unit: np.ndarray, minutes: float, rate: int, channels: int, codec: str, fmt: str, bit_rate: int
) -> None:
    import av

    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        stream.bit_rate = bit_rate
        planar = stream.codec_context.format.is_planar
        for piece in chunks(unit, minutes, rate):
            data = np.stack([piece] * channels) if planar else np.repeat(piece, channels)[None, :]
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(data, np.float32), format="fltp" if planar else "flt", layout=layout
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


FORMATS: dict[str, tuple[str, Callable[..., None]]] = {
    "WAV 16 kHz mono 16-bit": ("wav", lambda p, u, m: write_soundfile(p, u, m, 16000, 1, subtype="PCM_16")),
    "WAV 44.1 kHz stereo 24-bit": ("wav", lambda p, u, m: write_soundfile(p, u, m, 44100, 2, subtype="PCM_24")),
    "FLAC 48 kHz stereo 16-bit": ("flac", lambda p, u, m: write_soundfile(p, u, m, 48000, 2, subtype="PCM_16")),
    "Ogg Vorbis 44.1 kHz stereo": (
        "ogg",
        lambda p, u, m: write_soundfile(p, u, m, 44100, 2, format="OGG", subtype="VORBIS"),
    ),
    "mp3 44.1 kHz stereo 128 kbit/s": (
        "mp3",
        lambda p, u, m: write_pyav(p, u, m, 44100, 2, "libmp3lame", "mp3", 128000),
    ),
    "m4a AAC 48 kHz stereo 128 kbit/s": ("m4a", lambda p, u, m: write_pyav(p, u, m, 48000, 2, "aac", "mp4", 128000)),
    "mp3 22.05 kHz mono 64 kbit/s": ("mp3", lambda p, u, m: write_pyav(p, u, m, 22050, 1, "libmp3lame", "mp3", 64000)),
}
LONG = ("WAV 44.1 kHz stereo 24-bit", "mp3 22.05 kHz mono 64 kbit/s")  # 3-hour runs (quicker to encode)

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import numpy as np, soundfile, soxr, av
from esergui.audio import decode_to_cache, iter_blocks, load_audio

def hwm_mb():
    # VmHWM: this process's own peak RSS (ru_maxrss would include the parent's at fork/exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

mode, path, cache = sys.argv[2], sys.argv[3], sys.argv[4]
base = hwm_mb()
t = time.perf_counter()
n = 0
if mode == "iter_blocks":
    for b in iter_blocks(path):
        n += b.size
elif mode == "decode_to_cache":
    src = decode_to_cache(path, cache)
    n = src.n_samples
elif mode == "load_audio":
    n = load_audio(path).size
wall = time.perf_counter() - t
print(json.dumps({"base_mb": base, "peak_mb": hwm_mb(), "wall_s": wall, "samples": n}))
"""


def measure(mode: str, path: Path, cache: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), mode, str(path), str(cache)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="45-minute files only")
    ap.add_argument("--long-only", action="store_true", help="3-hour files only")
    ap.add_argument("--keep", type=Path, help="folder to keep the generated files in")
    args = ap.parse_args()
    unit = unit_lesson()
    with tempfile.TemporaryDirectory(prefix="eser-decode-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for name, (ext, writer) in ({} if args.long_only else FORMATS).items():
            path = folder / f"lesson45_{ext}_{len(rows)}.{ext}"
            t0 = time.perf_counter()
            if not (args.keep and path.is_file()):  # --keep: reuse files made by an earlier run
                writer(path, unit, 45.0)
            made = time.perf_counter() - t0
            r_iter = measure("iter_blocks", path, folder / "unused.wav")
            r_cache = measure("decode_to_cache", path, folder / f"cache_{path.stem}.wav")
            (folder / f"cache_{path.stem}.wav").unlink(missing_ok=True)
            rows.append(
                [
                    name,
                    f"{path.stat().st_size / 1e6:.0f} MB",
                    f"{r_iter['wall_s']:.1f} s",
                    f"{2700 / r_iter['wall_s']:.0f}x",
                    f"{r_cache['wall_s']:.1f} s",
                    f"{r_iter['peak_mb']:.0f} MB",
                    f"{r_cache['peak_mb']:.0f} MB",
                    f"{r_iter['base_mb']:.0f} MB",
                ]
            )
            print(f"  made {name} in {made:.0f} s", file=sys.stderr, flush=True)
            if not args.keep:
                path.unlink()
        if rows:
            print("45-minute lesson, decoded to 16 kHz mono (each run in a fresh process):\n")
            print(
                table(
                    rows,
                    [
                        "input",
                        "file",
                        "iter_blocks",
                        "speed",
                        "decode_to_cache",
                        "peak RSS iter_blocks",
                        "peak RSS decode_to_cache",
                        "baseline RSS",
                    ],
                ),
                flush=True,
            )
        if args.quick:
            return
        rows = []
        for name in LONG:
            ext, writer = FORMATS[name]
            path = folder / f"lesson3h.{ext}"
            t0 = time.perf_counter()
            if not (args.keep and path.is_file()):
                writer(path, unit, 180.0)
            print(f"  made 3-hour {name} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
            cache = folder / "cache3h.wav"
            r_iter = measure("iter_blocks", path, cache)
            r_cache = measure("decode_to_cache", path, cache)
            rows.append(
                [
                    name,
                    f"{path.stat().st_size / 1e6:.0f} MB",
                    f"{r_iter['wall_s']:.0f} s",
                    f"{r_cache['wall_s']:.0f} s",
                    f"{r_iter['peak_mb']:.0f} MB",
                    f"{r_cache['peak_mb']:.0f} MB",
                    f"{r_iter['base_mb']:.0f} MB",
                    f"{cache.stat().st_size / 1e6:.0f} MB",
                ]
            )
            cache.unlink()
            if not args.keep:
                path.unlink()
        print("\n3-hour lesson (same measurements):\n")
        print(
            table(
                rows,
                [
                    "input",
                    "file",
                    "iter_blocks",
                    "decode_to_cache",
                    "peak RSS iter_blocks",
                    "peak RSS decode_to_cache",
                    "baseline RSS",
                    "16 kHz cache",
                ],
            )
        )
        print("\nFor contrast, load_audio (the whole lesson in memory) on the 45-minute 16 kHz WAV:")
        path = folder / "lesson45_load.wav"
        FORMATS["WAV 16 kHz mono 16-bit"][1](path, unit, 45.0)
        r = measure("load_audio", path, folder / "unused.wav")
        print(f"peak RSS {r['peak_mb']:.0f} MB (baseline {r['base_mb']:.0f} MB), {r['wall_s']:.1f} s")


if __name__ == "__main__":
    main()
