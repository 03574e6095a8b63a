"""Voice-activity benchmark: frame-level speech precision/recall/F1 on a 10 ms grid.

Compares a plain webrtcvad pass (30 ms frames, no smoothing, the audio as it is), Silero VAD with
its package defaults, and ``esergui.segment.segment_speech`` (neural by default, webrtcvad as
``detector="webrtc"``) on the real two-speaker conversation sample (RTTM truth) and
on synthetic lessons from ``bench/synth.py`` (EmoDB speech with exact truth) under room noise,
babble, far-field (reverberant, -35 dBFS) students, quiet and loud recordings, long pauses and
non-speech classroom sounds (knocks, chair scrapes, paper, footsteps; 12 a minute, each as loud
as the teacher's speech on average).

    .venv/bin/python bench/vad_bench.py                # report seeds 1-5: Markdown tables
    .venv/bin/python bench/vad_bench.py --tune         # webrtcvad grid search on tuning seeds 101-104
    .venv/bin/python bench/vad_bench.py --tune-silero  # silero thresholds: tuning seeds 101-102 + demo lesson
    .venv/bin/python bench/vad_bench.py --real         # real recordings and the demo lesson only
    .venv/bin/python bench/vad_bench.py --speed        # segmentation time for a 45-minute lesson

Tuning seeds (101-104) use other EmoDB speakers (teacher 10; students 11, 12, 16; babble from
03, 08, 09) than the report seeds (teacher 03; students 08, 09, 13; babble from 14, 15, 16).
SNRs are relative to the teacher's level (``build_lesson``), so students 6-12 dB under the
teacher stand only -2..+4 dB above the noise at "10 dB".
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import webrtcvad

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reference import frames, read_rttm, speech_prf  # noqa: E402
from bench.synth import SR, build_lesson, classroom_sounds, room_noise  # noqa: E402
from esergui.audio import ArrayAudio, WavAudio  # noqa: E402
from esergui.paths import conversation_dir  # noqa: E402
from esergui.segment import VadSettings, frame_features, segment_speech, segments_from_mask, speech_mask  # noqa: E402

REPORT_SEEDS = (1, 2, 3, 4, 5)
TUNE_SEEDS = (101, 102, 103, 104)
REPORT_VOICES = dict(teacher="03", students=("08", "09", "13"), babble_speakers=("14", "15", "16"))
TUNE_VOICES = dict(teacher="10", students=("11", "12", "16"), babble_speakers=("03", "08", "09"))

CONDITIONS: dict[str, dict[str, Any]] = {
    "clean": dict(noise=None),
    "room noise 10 dB": dict(noise="room", snr_db=10.0),
    "babble 10 dB": dict(noise="babble", snr_db=10.0),
    "far-field students at -35 dBFS (room 20 dB)": dict(
        student_far_field=True, student_rel_db=(-11.0, -11.0), snr_db=20.0
    ),
    "room 10 dB + far-field students": dict(noise="room", snr_db=10.0, student_far_field=True),
    "quiet lesson: teacher -35 dBFS, far-field students": dict(teacher_dbfs=-35.0, student_far_field=True, snr_db=20.0),
    "loud lesson: teacher -10 dBFS": dict(teacher_dbfs=-10.0, snr_db=25.0),
    "long pauses 3-20 s (room 20 dB)": dict(noise="room", snr_db=20.0, pause_range_s=(3.0, 20.0)),
    "classroom sounds: knocks, scrapes, paper, steps (room 20 dB)": dict(
        snr_db=20.0, events_db=0.0, events_per_minute=12.0
    ),
}

Item = tuple[str, np.ndarray, np.ndarray, np.ndarray | None]  # condition, audio, truth frames, teacher frames


def conversation() -> Item:
    folder = conversation_dir()
    audio, sr = sf.read(folder / "sample.wav", dtype="float32")
    assert sr == SR
    turns = read_rttm(folder / "sample.rttm")
    return (
        "conversation sample (real, 2 speakers)",
        audio,
        frames([(t.start_s, t.end_s) for t in turns], audio.size / SR),
        None,
    )


def real_recordings() -> list[Item]:
    """The conversation sample, the two diarization examples (their turns cover the whole file,
    pauses included: only recall means something there) and the bundled demo lesson."""
    from bench.der_bench import recordings

    items = [conversation()]
    for rec in recordings():
        duration = rec.audio.size / SR
        spans = [(t.start_s, t.end_s) for t in rec.reference]
        if rec.group == "diarization":
            items.append(
                (
                    f"diarization {rec.name} (real; turns cover pauses: recall only)",
                    rec.audio,
                    frames(spans, duration),
                    None,
                )
            )
        elif rec.group == "demo":
            teacher = frames([(t.start_s, t.end_s) for t in rec.reference if t.speaker == "teacher"], duration)
            items.append(
                ("demo lesson (espeak-ng, far students, room noise)", rec.audio, frames(spans, duration), teacher)
            )
    return items


def lessons(seeds: tuple[int, ...], voices: dict[str, Any], duration_s: float) -> list[Item]:
    items = []
    for name, spec in CONDITIONS.items():
        kw = dict(spec)
        events_db, per_minute = kw.pop("events_db", None), kw.pop("events_per_minute", 0.0)
        for seed in seeds:
            lesson = build_lesson(seed=seed, duration_s=duration_s, **voices, **kw)
            if events_db is not None:  # non-speech events, events_db re the teacher's level
                level = kw.get("teacher_dbfs", -24.0) + events_db
                sounds = classroom_sounds(lesson.audio.size, np.random.default_rng(seed + 1000), per_minute)
                lesson.audio = np.clip(lesson.audio + sounds * 10 ** (level / 20), -1.0, 1.0).astype(np.float32)
            truth = frames([(t.start_s, t.end_s) for t in lesson.truth], lesson.duration_s)
            teacher = frames([(t.start_s, t.end_s) for t in lesson.truth if t.role == "teacher"], lesson.duration_s)
            items.append((name, lesson.audio, truth, teacher))
    return items


def plain_webrtcvad(audio: np.ndarray, mode: int, frame_ms: int = 30) -> np.ndarray:
    """webrtcvad's raw decisions on the 10 ms grid: no smoothing, no level change."""
    vad = webrtcvad.Vad(mode)
    n = SR * frame_ms // 1000
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    count = pcm.size // n
    buf = pcm[: count * n].tobytes()
    flags = np.array([vad.is_speech(buf[2 * i * n : 2 * (i + 1) * n], SR) for i in range(count)], bool)
    return np.repeat(flags, frame_ms // 10)


def span_frames(segments: list, duration_s: float) -> np.ndarray:
    return frames([(s.start_s, s.end_s) for s in segments], duration_s)


def score(truth: np.ndarray, hyp: np.ndarray, teacher: np.ndarray | None) -> tuple[float, ...]:
    n = min(truth.size, hyp.size)
    truth, hyp = truth[:n], hyp[:n]
    p, r, f = speech_prf(truth, hyp)
    if teacher is None:
        return p, r, f, float("nan"), float("nan")
    teacher = teacher[:n]
    student = truth & ~teacher
    return p, r, f, float(hyp[teacher].mean()), float(hyp[student].mean()) if student.any() else float("nan")


def non_speech_alone(settings: VadSettings, seconds: float = 120.0) -> dict[str, float]:
    """Seconds called speech in recordings without speech: room noise alone (loud and quiet), and
    classroom sounds (12 a minute at -24 dBFS) over room noise at -44 dBFS, after 30 s of a
    lesson (so the level normalisation sees speech, as in a real recording; not counted)."""
    rng = np.random.default_rng(7)
    n = int(seconds * SR)
    out = {}
    for level in (-30.0, -45.0):
        x = (room_noise(n, rng) * 10 ** (level / 20)).astype(np.float32)
        out[f"room noise alone at {level:.0f} dBFS"] = sum(s.duration_s for s in segment_speech(x, settings))
    lead = build_lesson(seed=77, duration_s=30.0, noise=None, **REPORT_VOICES).audio
    sounds = classroom_sounds(n, rng, 12.0) * 10 ** (-24.0 / 20) + room_noise(n, rng) * 10 ** (-44.0 / 20)
    x = np.concatenate([lead, np.clip(sounds, -1, 1).astype(np.float32)])
    start = lead.size / SR
    out["classroom sounds alone (after 30 s of lesson)"] = sum(
        max(0.0, s.end_s - max(s.start_s, start)) for s in segment_speech(x, settings)
    )
    return out


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


#: Silero VAD as its package uses it by default (threshold 0.5, release 0.35, 250 ms minimum
#: speech, 100 ms minimum silence, 30 ms padding), without the energy gate.
SILERO_PLAIN = VadSettings(
    energy_gate=False,
    speech_threshold=0.5,
    silence_threshold=0.35,
    min_speech_s=0.25,
    min_pause_s=0.1,
    onset_s=0.03,
    offset_s=0.03,
    min_loud_s=0.0,
    max_utterance_s=0.0,
)


def real_report() -> None:
    """Frame P/R/F1 on the real recordings and the demo lesson, per detector."""
    variants = {
        "ESER (defaults: silero + energy gate)": VadSettings(),
        "ESER, silero without the energy gate": VadSettings(energy_gate=False),
        "ESER, silero, energy gate bypassed above p = 0.8": VadSettings(gate_bypass_prob=0.8),
        "Silero VAD, package defaults": SILERO_PLAIN,
        "ESER webrtcvad (former default)": VadSettings(detector="webrtc"),
    }
    rows = []
    for name, audio, truth, _ in real_recordings():
        dur = audio.size / SR
        for variant, s in variants.items():
            p, r, f = speech_prf(truth, span_frames(segment_speech(audio, s), dur))
            rows.append(
                [
                    name,
                    variant,
                    f"{p:.3f}",
                    f"{r:.3f}",
                    f"**{f:.3f}**" if not name.startswith("diarization") else f"({f:.3f})",
                ]
            )
    print("Real recordings and the demo lesson: frame-level speech detection, 10 ms grid.\n")
    print(table(rows, ["recording", "detector", "precision", "recall", "F1"]))


def report(duration_s: float) -> None:
    real_report()
    print()
    items = [conversation(), *lessons(REPORT_SEEDS, REPORT_VOICES, duration_s)]
    settings = VadSettings()
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        f"plain{m}": (lambda a, m=m: plain_webrtcvad(a, m)) for m in range(4)
    }
    ablations = {
        "ESER (defaults)": settings,
        "without the energy gate": VadSettings(energy_gate=False),
        "energy gate bypassed above p = 0.8": VadSettings(gate_bypass_prob=0.8),
        "without level normalisation": VadSettings(normalize=False),
        "Silero VAD, package defaults": SILERO_PLAIN,
        "ESER webrtcvad (former default)": VadSettings(detector="webrtc"),
        "webrtcvad, without webrtcvad evidence pooling": VadSettings(detector="webrtc", vad_min_fraction=0.0),
    }
    results: dict[str, dict[str, list[tuple[float, ...]]]] = {}
    t_eser = 0.0
    audio_s = 0.0
    for cond, audio, truth, teacher in items:
        dur = audio.size / SR
        audio_s += dur
        for name, fn in methods.items():
            results.setdefault(cond, {}).setdefault(name, []).append(score(truth, fn(audio), teacher))
        for name, s in ablations.items():
            t0 = time.perf_counter()
            segs = segment_speech(audio, s)
            if name == "ESER (defaults)":
                t_eser += time.perf_counter() - t0
            results[cond].setdefault(name, []).append(score(truth, span_frames(segs, dur), teacher))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no teacher/student split for the conversation
        mean = {c: {m: np.nanmean(np.array(v), axis=0) for m, v in ms.items()} for c, ms in results.items()}

    rows = []
    for cond, ms in mean.items():
        best = max(range(4), key=lambda m: ms[f"plain{m}"][2])
        p2, e = ms["plain2"], ms["ESER (defaults)"]
        rows.append(
            [
                cond,
                f"{p2[0]:.3f} / {p2[1]:.3f} / **{p2[2]:.3f}**",
                f"{ms[f'plain{best}'][2]:.3f} (mode {best})",
                f"{e[0]:.3f} / {e[1]:.3f} / **{e[2]:.3f}**",
                "-" if np.isnan(e[3]) else f"{e[3]:.3f} / {e[4]:.3f}",
            ]
        )
    print(
        f"Frame-level speech detection, 10 ms grid; lessons: mean of seeds {', '.join(map(str, REPORT_SEEDS))}, "
        f"{duration_s:.0f} s each.\n"
    )
    print(
        table(
            rows,
            [
                "condition",
                "plain webrtcvad mode 2: P / R / F1",
                "plain, best mode in hindsight: F1",
                "ESER: P / R / F1",
                "ESER recall: teacher / students",
            ],
        )
    )
    print("\nAblations (F1; mean over the lesson conditions, and the conversation):\n")
    lesson_conds = [c for c in mean if not c.startswith("conversation")]
    conv = next(c for c in mean if c.startswith("conversation"))
    rows = []
    for name in ablations:
        f1 = [mean[c][name][2] for c in lesson_conds]
        rows.append([name, f"{np.mean(f1):.3f}", f"{min(f1):.3f}", f"{mean[conv][name][2]:.3f}"])
    print(table(rows, ["variant", "lessons: mean F1", "lessons: worst condition", "conversation F1"]))
    print("\nRecordings without speech (seconds called speech out of 120):\n")
    fa = non_speech_alone(settings)
    fa_no_gate = non_speech_alone(ablations["without the energy gate"])
    fa_webrtc = non_speech_alone(ablations["ESER webrtcvad (former default)"])
    print(
        table(
            [[k, f"{v:.1f}", f"{fa_no_gate[k]:.1f}", f"{fa_webrtc[k]:.1f}"] for k, v in fa.items()],
            ["recording", "ESER (defaults)", "silero without the energy gate", "ESER webrtcvad"],
        )
    )
    print(
        f"\nESER segmentation ran at {audio_s / t_eser:.0f}x real time over these {audio_s / 60:.0f} minutes "
        "(in-memory arrays, this machine)."
    )


GRID: dict[str, list[Any]] = {
    "aggressiveness": [2, 3],
    "vad_context_s": [0.1, 0.25, 0.4],
    "vad_min_fraction": [0.1, 0.3, 0.5],
    "gate_low_sigma": [0.75, 1.0],
    "min_pause_s": [0.2, 0.3],
    "offset_s": [0.05, 0.1],
}


def tune(duration_s: float, top: int) -> None:
    """Grid search on the tuning seeds; webrtcvad features are computed once per aggressiveness."""
    items = [conversation(), *lessons(TUNE_SEEDS, TUNE_VOICES, duration_s)]
    feats: dict[int, list[Any]] = {}
    for agg in GRID["aggressiveness"]:
        feats[agg] = [
            frame_features(audio, VadSettings(detector="webrtc", aggressiveness=agg)) for _, audio, _, _ in items
        ]
    results = []
    keys = list(GRID)
    for values in itertools.product(*GRID.values()):
        kw = dict(zip(keys, values))
        s = VadSettings(detector="webrtc", **kw)
        per: dict[str, list[float]] = {}
        for (cond, audio, truth, teacher), f in zip(items, feats[kw["aggressiveness"]]):
            mask, arrays = speech_mask(f, s)
            segs = segments_from_mask(mask, f, s, arrays)
            per.setdefault(cond, []).append(score(truth, span_frames(segs, audio.size / SR), teacher)[2])
        f1 = {c: float(np.mean(v)) for c, v in per.items()}
        lesson_f1 = [v for c, v in f1.items() if not c.startswith("conversation")]
        conv = next(v for c, v in f1.items() if c.startswith("conversation"))
        results.append((float(np.mean(lesson_f1)), min(lesson_f1), conv, kw))
    results.sort(key=lambda r: -(r[0] + 0.5 * r[1] + 0.5 * min(r[2], 0.985)))
    print(f"{len(results)} settings on tuning seeds {TUNE_SEEDS}; defaults: {VadSettings().to_dict()}")
    for mean_f1, worst, conv, kw in results[:top]:
        print(f"lessons mean {mean_f1:.4f} worst {worst:.4f} conversation {conv:.4f}  {kw}")


SILERO_GRID: dict[str, list[Any]] = {
    "speech_threshold": [0.15, 0.3, 0.5],
    "silence_threshold": [0.05, 0.15, 0.3],
    "energy_gate": [False, True],
    "min_pause_s": [0.2, 0.5],
    "offset_s": [0.05, 0.2],
    "onset_s": [0.03, 0.1],
}


def tune_silero(duration_s: float, top: int) -> None:
    """How the silero thresholds were chosen: grid on tuning seeds 101-102 and the demo lesson,
    ranked by mean + worst lesson F1 + demo F1 (the real recordings are printed, not used)."""
    demo = [it for it in real_recordings() if it[0].startswith("demo")]
    items = [*demo, *lessons(TUNE_SEEDS[:2], TUNE_VOICES, duration_s)]
    feats = [frame_features(audio, VadSettings()) for _, audio, _, _ in items]
    results = []
    for values in itertools.product(*SILERO_GRID.values()):
        kw = dict(zip(SILERO_GRID, values))
        if kw["silence_threshold"] > kw["speech_threshold"]:
            continue
        s = VadSettings(**kw)
        per: dict[str, list[float]] = {}
        for (cond, audio, truth, teacher), f in zip(items, feats):
            mask, arrays = speech_mask(f, s)
            per.setdefault(cond, []).append(
                score(truth, span_frames(segments_from_mask(mask, f, s, arrays), audio.size / SR), teacher)[2]
            )
        f1 = {c: float(np.mean(v)) for c, v in per.items()}
        les = [v for c, v in f1.items() if not c.startswith("demo")]
        results.append((float(np.mean(les)), min(les), f1[items[0][0]], kw))
    results.sort(key=lambda r: -(r[0] + r[1] + r[2]))
    print(
        f"{len(results)} silero settings on tuning seeds {TUNE_SEEDS[:2]} ({duration_s:.0f} s lessons) and the demo lesson"
    )
    for mean_f1, worst, demo_f1, kw in results[:top]:
        print(f"lessons mean {mean_f1:.4f} worst {worst:.4f} demo {demo_f1:.4f}  {kw}")


def speed() -> None:
    import os

    lesson = build_lesson(seed=11, duration_s=45 * 60, noise="room", snr_db=15.0, **REPORT_VOICES)
    dur = lesson.duration_s
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "lesson45.wav"
        sf.write(wav, lesson.audio, SR, subtype="PCM_16")
        for detector in ("silero", "webrtc"):
            for name, make in [
                ("in-memory array", lambda: ArrayAudio(lesson.audio)),
                ("16 kHz WAV cache", lambda: WavAudio(wav)),
            ]:
                times, cpu = [], []
                for _ in range(3):
                    src = make()
                    t0, c0 = time.perf_counter(), time.process_time()
                    segs = segment_speech(src, VadSettings(detector=detector))
                    times.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                best = min(times)
                print(
                    f"{detector}, 45-minute lesson, {name}: {best:.2f} s wall (best of 3) = {dur / best:.0f}x real time; "
                    f"{min(cpu):.2f} s CPU = {dur / min(cpu):.0f}x; {len(segs)} segments; load average {os.getloadavg()[0]:.1f}"
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", action="store_true", help="grid search on the tuning seeds (webrtcvad detector)")
    ap.add_argument("--tune-silero", action="store_true", help="grid search of the silero thresholds")
    ap.add_argument("--real", action="store_true", help="only the real recordings and the demo lesson")
    ap.add_argument("--speed", action="store_true", help="time the segmentation of a 45-minute lesson")
    ap.add_argument("--duration", type=float, default=180.0, help="seconds per synthetic lesson")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    if args.tune:
        tune(args.duration, args.top)
    elif args.tune_silero:
        tune_silero(120.0 if args.duration == 180.0 else args.duration, args.top)
    elif args.real:
        real_report()
    elif args.speed:
        speed()
    else:
        report(args.duration)


if __name__ == "__main__":
    main()
