"""Build the bundled demo lesson: a teacher and four students, synthesised with espeak-ng.

    .venv/bin/python resources/demo/make_demo_lesson.py            # writes the files below
    .venv/bin/python resources/demo/make_demo_lesson.py --check    # rebuild in memory, compare

Writes, next to this script:
* ``demo_lesson.ogg``: about 3 minutes, 16 kHz mono Ogg Vorbis (about 1 MB);
* ``demo_lesson_truth.csv``: one row per sentence: ``start_s, end_s, speaker, role, turn, text``
  (the voiced span of each synthesised sentence, to 10 ms; ``turn`` numbers the speaker turns:
  a teacher turn is several sentences 0.25-0.45 s apart).

A science lesson on the water cycle: the teacher (near the microphone, low male voice, slow)
talks in long turns, asks questions and waits; the students (quieter, farther away, with a
little room reverberation; different voices, pitches and rates) answer briefly. Pauses are
0.5-3 s, under steady room noise (hiss and mains hum) about 30 dB below the teacher.

Everything is synthetic (espeak-ng, GPL-3 program; its output is not covered by the GPL), so
the recording may be redistributed freely. The output is deterministic for a given
espeak-ng version (1.51 made the committed files) and libvorbis.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bench.synth import reverb, room_noise, voiced_span  # noqa: E402

SR = 16000
AUDIO = HERE / "demo_lesson.ogg"
TRUTH = HERE / "demo_lesson_truth.csv"


@dataclass(frozen=True)
class Voice:
    espeak: str  # espeak-ng voice+variant
    pitch: int  # 0-99
    speed: int  # words per minute
    role: str
    level_dbfs: float  # RMS of the voiced part
    far: bool  # reverberant (away from the microphone)


VOICES = {
    "teacher": Voice("en-gb+m3", 38, 145, "teacher", -22.0, False),
    "anna": Voice("en-us+f4", 72, 170, "student", -30.0, True),
    "ben": Voice("en-gb+m1", 58, 180, "student", -31.0, True),
    "chloe": Voice("en+f2", 80, 185, "student", -29.0, True),
    "david": Voice("en-us+m7", 50, 160, "student", -33.0, True),
}

# (speaker, text, pause after in seconds)
SCRIPT: list[tuple[str, str, float]] = [
    (
        "teacher",
        "Good morning, everyone. Please sit down and take out your notebooks. "
        "Today we are going to talk about the water cycle, which is how water moves around our planet.",
        1.2,
    ),
    ("teacher", "Let's start with a question. When a puddle disappears on a sunny day, where does the water go?", 2.6),
    ("anna", "Does it go up into the air?", 0.8),
    (
        "teacher",
        "Yes, Anna, exactly. The sun heats the water, and it turns into an invisible gas called water vapour. "
        "We call this evaporation. Can anyone spell evaporation for me?",
        2.2,
    ),
    ("ben", "E, V, A, P, O, R, A, T, I, O, N.", 0.7),
    (
        "teacher",
        "Very good, Ben. Now, the water vapour rises and cools down high in the sky. What happens to it when it cools?",
        3.0,
    ),
    ("chloe", "It makes clouds! Tiny drops of water stick together and make clouds!", 0.9),
    (
        "teacher",
        "Wonderful, Chloe. That step is called condensation. The same thing happens on a cold glass of "
        "lemonade in summer. The little drops on the outside come from the air, not from inside the glass.",
        1.5,
    ),
    ("david", "But why does it rain, then?", 0.6),
    (
        "teacher",
        "That is a great question, David. When the drops in a cloud grow too heavy, they fall down as rain, "
        "snow or hail. This is called precipitation.",
        1.0,
    ),
    ("teacher", "And where does the rain go after it falls? Think about rivers and the sea.", 2.8),
    ("anna", "Into rivers, and then the rivers go to the sea.", 0.7),
    ("ben", "And some goes into the ground.", 1.1),
    (
        "teacher",
        "Both correct. Water collects in rivers, lakes, oceans and under the ground. "
        "Then the sun heats it again, and the whole cycle starts over. It never really stops.",
        1.4,
    ),
    ("chloe", "So the water in my glass could be really old?", 0.8),
    (
        "teacher",
        "Yes! The water you drink today may once have been in a dinosaur's lake. "
        "It goes round and round for millions of years.",
        1.6,
    ),
    (
        "teacher",
        "Let's do a quick experiment in our heads. I put a pot of water on the stove and forget about it. "
        "What do I find an hour later?",
        2.9,
    ),
    ("ben", "An empty pot.", 0.6),
    ("chloe", "And the kitchen window is all foggy.", 0.9),
    (
        "teacher",
        "Right, both of you. The water evaporated from the pot, and it condensed again on the cold window. "
        "That is the water cycle, in your own kitchen.",
        1.3,
    ),
    ("teacher", "David, you look puzzled. Is something not clear?", 2.4),
    ("david", "Where does the snow go in spring?", 0.7),
    (
        "teacher",
        "The snow melts into water, and the water runs into streams and rivers. "
        "Some of it soaks into the soil and feeds the plants. So snow is part of the cycle too.",
        1.2,
    ),
    ("anna", "Plants drink it, and then they breathe it out again!", 0.8),
    (
        "teacher",
        "Very good, Anna, plants also give water back to the air through their leaves. "
        "Now, in pairs, draw the four steps of the water cycle with arrows. You have ten minutes.",
        2.0,
    ),
    ("david", "Can we use colours?", 0.6),
    ("teacher", "Of course you can. Blue for water, and maybe yellow for the sun. Off you go.", 1.5),
]


def speak(voice: Voice, text: str, folder: Path, index: int) -> np.ndarray:
    """espeak-ng -> float32 mono at 16 kHz, trimmed to its voiced span."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is not installed (bash packaging/setup.sh --dev installs it)")
    raw = folder / f"u{index:02d}.wav"
    subprocess.run(
        [exe, "-v", voice.espeak, "-p", str(voice.pitch), "-s", str(voice.speed), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    audio, rate = sf.read(raw, dtype="float32")
    audio = soxr.resample(audio, rate, SR).astype(np.float32)
    a, b = voiced_span(audio, SR, floor_db=-40.0)
    return audio[a:b]


def sentences(text: str) -> list[str]:
    """Split a turn into sentences (each is synthesised and timed on its own)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip())
    return [p for p in parts if p]


def build() -> tuple[np.ndarray, list[dict[str, str]]]:
    rng = np.random.default_rng(2024)
    pieces: list[tuple[int, np.ndarray]] = []
    rows: list[dict[str, str]] = []
    pos = int(0.8 * SR)
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        for turn, (who, text, pause) in enumerate(SCRIPT, start=1):
            voice = VOICES[who]
            said = sentences(text)
            for k, sentence in enumerate(said):
                clip = speak(voice, sentence, Path(tmp), count)
                count += 1
                clip = clip * 10 ** (voice.level_dbfs / 20) / (np.sqrt(np.mean(clip**2)) + 1e-9)
                if voice.far:
                    clip = reverb(clip, rng, rt60_s=0.35)
                pieces.append((pos, clip.astype(np.float32)))
                rows.append(
                    {
                        "start_s": f"{pos / SR:.2f}",
                        "end_s": f"{(pos + clip.size) / SR:.2f}",
                        "speaker": who,
                        "role": voice.role,
                        "turn": str(turn),
                        "text": sentence,
                    }
                )
                pos += clip.size
                if k < len(said) - 1:
                    pos += int(rng.uniform(0.25, 0.45) * SR)  # between sentences of one turn
            pos += int(pause * SR)
    total = pos + int(0.5 * SR)
    audio = np.zeros(total, np.float32)
    for start, clip in pieces:
        audio[start : start + clip.size] += clip
    audio += room_noise(total, rng) * 10 ** (-52.0 / 20)
    return np.clip(audio, -1.0, 1.0).astype(np.float32), rows


def write(audio: np.ndarray, rows: list[dict[str, str]]) -> None:
    # Written in 1 s pieces: one large write to a Vorbis file crashes libsndfile 1.2.2.
    with sf.SoundFile(AUDIO, "w", SR, 1, format="OGG", subtype="VORBIS", compression_level=0.55) as out:
        for start in range(0, audio.size, SR):
            out.write(audio[start : start + SR])
    with open(TRUTH, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["start_s", "end_s", "speaker", "role", "turn", "text"])
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="rebuild and compare the truth with the committed CSV")
    args = ap.parse_args()
    audio, rows = build()
    if args.check:
        with open(TRUTH, newline="") as fh:
            same = list(csv.DictReader(fh)) == rows
        print("truth CSV matches" if same else "truth CSV differs (another espeak-ng version?)")
        raise SystemExit(0 if same else 1)
    write(audio, rows)
    print(
        f"{AUDIO.name}: {audio.size / SR:.1f} s, {AUDIO.stat().st_size / 1e6:.2f} MB; "
        f"{TRUTH.name}: {len(rows)} utterances"
    )


if __name__ == "__main__":
    main()
