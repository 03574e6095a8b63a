"""Speaker-attribution benchmark: roles and speakers on a 10 ms grid.

Lessons come from ``bench/synth.py`` (EmoDB speech with exact truth): 1, 3 or 8 students,
students 6 or 12 dB under the teacher, close or far-field (reverberant), room noise. The teacher
and students are drawn per seed from EmoDB's 10 speakers; three of the teacher's clips are kept
out of the lesson and serve as the enrolment recording. Plus the real two-speaker conversation
sample with its reference RTTM. Segments are the truth utterances ("oracle" VAD, isolating
this stage) and, where ``esergui.segment`` exists, its output ("vad").

    .venv/bin/python bench/speaker_bench.py                 # report seeds, prints Markdown tables
    .venv/bin/python bench/speaker_bench.py --tune          # tuning seeds (disjoint)
    .venv/bin/python bench/speaker_bench.py --embeddings    # encoder comparison (EER; bench/speaker_encoders.py)
    .venv/bin/python bench/speaker_bench.py --speed         # time per 45-minute lesson

Figures (see ``docs/SPEAKERS.md``):
* role accuracy: frames where truth and system both say speech, share with the right role;
  "all teacher" is the accuracy of calling everything the teacher;
* teacher share error: |system teacher time / system speech - truth teacher time / truth speech|;
* speaker purity / coverage on frames both call speech, and speaker error (1 - frames matched
  under the best one-to-one mapping of system to truth speakers).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reference import label_frames, read_rttm  # noqa: E402
from bench.speaker_encoders import encoder_comparison  # noqa: E402
from bench.synth import SR, build_lesson, load_emodb_index, read_clip, voiced_span  # noqa: E402
from esergui.paths import conversation_dir  # noqa: E402

SPEAKERS = ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16")
REPORT_SEEDS = (1, 2, 3)
TUNE_SEEDS = (101, 102, 103, 104)


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float


@dataclass(frozen=True)
class LessonSpec:
    n_students: int = 3
    student_db: float = -9.0
    far_field: bool = False
    noise: str | None = "room"
    seed: int = 1
    duration_s: float = 600.0
    discussion: bool = False  # short teacher turns, long student turns: students talk most

    @property
    def group(self) -> str:
        if self.discussion:
            return f"discussion: {self.n_students} st talking most, {self.student_db:+.0f} dB"
        return f"{self.n_students} st, {self.student_db:+.0f} dB, {'far' if self.far_field else 'near'}"

    @property
    def name(self) -> str:
        return f"{self.group}, {self.noise or 'clean'}"


@dataclass
class BenchLesson:
    spec: LessonSpec
    audio: np.ndarray
    truth: list[tuple[float, float, str, str]]  # start, end, speaker, role
    enrol: np.ndarray  # the teacher's enrolment recording (clips kept out of the lesson)
    teacher: str


def make_lesson(spec: LessonSpec) -> BenchLesson:
    """A synthetic lesson for ``spec``: speakers drawn from ``spec.seed``, enrolment kept apart."""
    rng = np.random.default_rng(10_000 + spec.seed)
    people = list(rng.permutation(SPEAKERS))
    teacher, students = people[0], tuple(people[1 : 1 + spec.n_students])
    teacher_rows = [r for r in load_emodb_index() if r["speaker"] == teacher]
    picks = rng.choice(len(teacher_rows), size=3, replace=False)
    enrol_files = tuple(teacher_rows[i]["file"] for i in picks)
    pieces = []
    for name in enrol_files:
        clip = read_clip(name)
        a, b = voiced_span(clip)
        pieces += [clip[a:b], np.zeros(SR // 3, np.float32)]
    turns = (
        dict(teacher_turn_utterances=(1, 1), student_turn_utterances=5, teacher_again_prob=0.0)
        if spec.discussion
        else {}
    )
    lesson = build_lesson(
        seed=spec.seed,
        duration_s=spec.duration_s,
        teacher=teacher,
        students=students,
        student_rel_db=(spec.student_db, spec.student_db),
        student_far_field=spec.far_field,
        noise=spec.noise,
        exclude_files=enrol_files,
        **turns,
    )
    truth = [(t.start_s, t.end_s, t.speaker, t.role) for t in lesson.truth]
    return BenchLesson(spec, lesson.audio, truth, np.concatenate(pieces), teacher)


def oracle_segments(truth: Sequence[tuple[float, float, str, str]]) -> list[Span]:
    return [Span(a, b) for a, b, _, _ in truth]


def vad_segments(audio: np.ndarray) -> list[Any] | None:
    """``esergui.segment.segment_speech`` output, or ``None`` while that module does not exist."""
    try:
        from esergui.segment import segment_speech
    except ImportError:
        return None
    return list(segment_speech(audio))


# --- scoring ---------------------------------------------------------------------------------


def score(truth: Sequence[tuple[float, float, str, str]], turns: Sequence[Any], duration_s: float) -> dict[str, float]:
    """Role and speaker figures on a 10 ms grid (see the module docstring)."""
    ref_role = label_frames([(a, b, r) for a, b, _, r in truth], duration_s)
    hyp_role = label_frames([(t.start_s, t.end_s, t.role) for t in turns], duration_s)
    ref_spk = label_frames([(a, b, s) for a, b, s, _ in truth], duration_s)
    hyp_spk = label_frames([(t.start_s, t.end_s, t.speaker) for t in turns], duration_s)
    ref_on, hyp_on = ref_role != None, hyp_role != None  # noqa: E711
    both = ref_on & hyp_on
    n = max(1, int(both.sum()))
    acc = float(np.sum(ref_role[both] == hyp_role[both])) / n
    base = float(np.sum(ref_role[both] == "teacher")) / n
    ref_share = float(np.sum(ref_role == "teacher")) / max(1, int(ref_on.sum()))
    hyp_share = float(np.sum(hyp_role == "teacher")) / max(1, int(hyp_on.sum()))
    purity, coverage, spk_err = speaker_figures(ref_spk[both], hyp_spk[both])
    return {
        "role_acc": 100 * acc,
        "all_teacher": 100 * base,
        "share_err": 100 * abs(hyp_share - ref_share),
        "truth_share": 100 * ref_share,
        "purity": 100 * purity,
        "coverage": 100 * coverage,
        "spk_err": 100 * spk_err,
        "n_hyp": len({t.speaker for t in turns}),
        "n_ref": len({s for _, _, s, _ in truth}),
    }


def speaker_figures(ref: np.ndarray, hyp: np.ndarray) -> tuple[float, float, float]:
    """Purity, coverage and speaker error (after the best one-to-one mapping) of label arrays."""
    from scipy.optimize import linear_sum_assignment

    if len(ref) == 0:
        return 1.0, 1.0, 0.0
    r_names, r_idx = np.unique(ref.astype(str), return_inverse=True)
    h_names, h_idx = np.unique(hyp.astype(str), return_inverse=True)
    table = np.zeros((len(r_names), len(h_names)))
    np.add.at(table, (r_idx, h_idx), 1)
    n = table.sum()
    rows, cols = linear_sum_assignment(-table)
    return table.max(axis=0).sum() / n, table.max(axis=1).sum() / n, 1 - table[rows, cols].sum() / n


# --- runs ------------------------------------------------------------------------------------


def run_lesson(
    lesson: BenchLesson,
    segments: Sequence[Any],
    settings: Any,
    enrol: bool,
    attribute: Callable[..., Any] | None = None,
) -> tuple[dict[str, float], float]:
    from esergui.speakers import attribute_speakers, embed_voice

    attribute = attribute or attribute_speakers
    t0 = time.perf_counter()
    teacher = embed_voice(lesson.enrol) if enrol else None
    turns = attribute(lesson.audio, segments, settings, teacher_embedding=teacher)
    elapsed = time.perf_counter() - t0
    return score(lesson.truth, turns, len(lesson.audio) / SR), elapsed


def lesson_matrix(seeds: Sequence[int], duration_s: float) -> list[LessonSpec]:
    specs = []
    for seed in seeds:
        for n in (1, 3, 8):
            for db in (-6.0, -12.0):
                for far in (False, True):
                    specs.append(LessonSpec(n, db, far, "room", seed, duration_s))
        specs.append(LessonSpec(1, -6.0, False, "room", seed, duration_s, discussion=True))
    return specs


def conversation() -> tuple[np.ndarray, list[tuple[float, float, str, str]]] | None:
    folder = conversation_dir()
    if not (folder / "sample.wav").is_file():
        return None
    import soundfile as sf

    audio, sr = sf.read(folder / "sample.wav", dtype="float32")
    assert sr == SR
    ref = read_rttm(folder / "sample.rttm")
    talk: dict[str, float] = {}
    for t in ref:
        talk[t.speaker] = talk.get(t.speaker, 0.0) + t.end_s - t.start_s
    main = max(talk, key=talk.get)  # the "teacher": the speaker with the most speech
    truth = [(t.start_s, t.end_s, t.speaker, "teacher" if t.speaker == main else "student") for t in ref]
    return audio, truth


def _mean(rows: list[dict[str, float]], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def print_table(title: str, groups: dict[str, list[dict[str, float]]]) -> None:
    print(f"\n### {title}\n")
    print(
        "| lessons | all-teacher acc % | role acc % | teacher-share err pp | purity % | coverage % | speaker err % | speakers (truth) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, rows in sorted(groups.items(), key=lambda kv: kv[0].startswith("**")):
        print(
            f"| {name} | {_mean(rows, 'all_teacher'):.1f} | {_mean(rows, 'role_acc'):.1f} "
            f"(min {min(r['role_acc'] for r in rows):.1f}) | {_mean(rows, 'share_err'):.1f} "
            f"(max {max(r['share_err'] for r in rows):.1f}) | {_mean(rows, 'purity'):.1f} | "
            f"{_mean(rows, 'coverage'):.1f} | {_mean(rows, 'spk_err'):.1f} | "
            f"{_mean(rows, 'n_hyp'):.1f} ({_mean(rows, 'n_ref'):.1f}) |"
        )


def evaluate(seeds: Sequence[int], duration_s: float, settings: Any, use_vad: bool = True) -> dict[str, Any]:
    """Figures per segment source (oracle / vad) x (auto / enrolled) x lesson group.

    Windows are embedded once per lesson and segment source; both role modes then run the same
    code as :func:`esergui.speakers.attribute_speakers` on them."""
    from bench.role_calibration import turn_outcomes
    from esergui.audio import ArrayAudio
    from esergui.speakers import embed_voice
    from esergui.speakers.attribute import windows_to_turns
    from esergui.speakers.roles import assign_roles
    from esergui.speakers.windows import embed_windows

    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    outcomes: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    per_lesson: list[tuple[str, str, int, dict[str, float]]] = []
    for spec in lesson_matrix(seeds, duration_s):
        lesson = make_lesson(spec)
        variants = [("oracle segments", oracle_segments(lesson.truth))]
        if use_vad:
            vad = vad_segments(lesson.audio)
            if vad is not None:
                variants.append(("VAD segments", vad))
        voice = embed_voice(lesson.enrol)
        for seg_name, segments in variants:
            segments = sorted(segments, key=lambda s: s.start_s)
            win = embed_windows(ArrayAudio(lesson.audio), segments, settings.window_s)
            for enrol in (False, True):
                a = assign_roles(
                    win.embedding, win.duration_s, win.segment, settings, voice if enrol else None, win.start_s
                )
                turns = windows_to_turns(win, segments, a.speaker, a.teacher, a.confidence)
                fig = score(lesson.truth, turns, len(lesson.audio) / SR)
                key = f"{seg_name}, {'enrolled teacher voice' if enrol else 'automatic (dominant voice)'}"
                if not enrol:
                    conf, right = turn_outcomes(lesson.truth, turns, len(lesson.audio) / SR)
                    outcomes.setdefault(seg_name, []).append((conf, right))
                per_lesson.append((key, spec.name, spec.seed, fig))
                results.setdefault(key, {}).setdefault(spec.group, []).append(fig)
                if not spec.discussion:
                    results[key].setdefault("**all teacher-led lessons**", []).append(fig)
        print(f"  done {spec.name} seed {spec.seed}", file=sys.stderr, flush=True)
    return {"results": results, "outcomes": outcomes, "per_lesson": per_lesson}


def print_failing(per_lesson: list[tuple[str, str, int, dict[str, float]]]) -> None:
    """Teacher-led lessons that miss role accuracy >= 95 % or teacher-share error <= 3 pp."""
    print("\n### Teacher-led lessons missing role acc >= 95 % or teacher-share err <= 3 pp\n")
    print("| segments, roles | lesson | seed | role acc % | teacher-share err pp |\n|---|---|---|---|---|")
    bad = [
        (k, n, s, f)
        for k, n, s, f in per_lesson
        if not n.startswith("discussion") and (f["role_acc"] < 95 or f["share_err"] > 3)
    ]
    for k, n, s, f in bad:
        print(f"| {k} | {n} | {s} | {f['role_acc']:.1f} | {f['share_err']:.1f} |")
    total = sum(1 for _, n, _, _ in per_lesson if not n.startswith("discussion"))
    print(f"\n{len(bad)} of {total} (lesson, segments, roles) runs miss a target.")


def print_reliability(outcomes: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> None:
    """Reliability of the turns' role confidence (automatic roles, all lessons)."""
    from bench.role_calibration import reliability

    for seg_name, pairs in outcomes.items():
        conf = np.concatenate([c for c, _ in pairs])
        right = np.concatenate([r for _, r in pairs])
        rows, ece = reliability(conf, right)
        print(
            f"\n### Role confidence of turns, {seg_name}, automatic roles: {len(conf)} turns, "
            f"{100 * right.mean():.1f} % right, mean confidence {conf.mean():.3f}, ECE {ece:.1f} pp\n"
        )
        print("| confidence | turns | mean confidence | share right |\n|---|---|---|---|")
        print("\n".join("| " + " | ".join(r) + " |" for r in rows))


def sweep(seeds: Sequence[int], duration_s: float, thresholds: Sequence[float]) -> None:
    """Role accuracy and teacher-share error per clustering threshold (oracle segments, no
    enrolment): how the default was chosen, on the tuning seeds."""
    from esergui.audio import ArrayAudio
    from esergui.speakers import SpeakerSettings
    from esergui.speakers.attribute import windows_to_turns
    from esergui.speakers.roles import assign_roles
    from esergui.speakers.windows import embed_windows

    figs: dict[tuple[float, bool], list[dict[str, float]]] = {}
    for spec in lesson_matrix(seeds, duration_s):
        if spec.discussion:
            continue
        lesson = make_lesson(spec)
        segments = oracle_segments(lesson.truth)
        win = embed_windows(ArrayAudio(lesson.audio), [s for s in segments if s.end_s < 300], 1.5)
        for th in thresholds:
            for merge in (False, True):
                settings = SpeakerSettings(cluster_threshold=th, teacher_merge_adjacency=0.3 if merge else None)
                a = assign_roles(win.embedding, win.duration_s, win.segment, settings, None, win.start_s)
                turns = windows_to_turns(win, segments, a.speaker, a.teacher, a.confidence)
                figs.setdefault((th, merge), []).append(score(lesson.truth, turns, len(lesson.audio) / SR))
        print(f"  done {spec.name} seed {spec.seed}", file=sys.stderr, flush=True)
    print(
        f"\n### Threshold sweep, tuning seeds {list(seeds)}, {duration_s / 60:g}-minute teacher-led lessons, oracle segments\n"
    )
    print(
        "| cluster_threshold | teacher-fragment merging | role acc % (mean / min) | teacher-share err pp (mean / max) | speaker err % | speakers found |"
    )
    print("|---|---|---|---|---|---|")
    for (th, merge), rows in figs.items():
        print(
            f"| {th:.2f} | {'on' if merge else 'off'} | {_mean(rows, 'role_acc'):.1f} / {min(r['role_acc'] for r in rows):.1f} | "
            f"{_mean(rows, 'share_err'):.1f} / {max(r['share_err'] for r in rows):.1f} | {_mean(rows, 'spk_err'):.1f} | "
            f"{_mean(rows, 'n_hyp'):.1f} |"
        )


def conversation_sweep(thresholds: Sequence[float]) -> None:
    """The real two-speaker sample at several clustering thresholds (automatic roles)."""
    from esergui.speakers import SpeakerSettings

    conv = conversation()
    if conv is None:
        print("conversation sample not found; not run")
        return
    audio, truth = conv
    lesson = BenchLesson(LessonSpec(), audio, truth, audio[:0], "")
    print("\n### Conversation sample by clustering threshold\n")
    print(
        "| segments | cluster_threshold | role acc % | teacher-share err pp | purity % | coverage % | speaker err % | speakers |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, segments in (("oracle", oracle_segments(truth)), ("VAD", vad_segments(audio))):
        for th in thresholds:
            f, _ = run_lesson(lesson, segments, SpeakerSettings(cluster_threshold=th), False)
            print(
                f"| {name} | {th:.2f} | {f['role_acc']:.1f} | {f['share_err']:.1f} | {f['purity']:.1f} | "
                f"{f['coverage']:.1f} | {f['spk_err']:.1f} | {f['n_hyp']} |"
            )


# --- speed and memory ----------------------------------------------------------------------------


def speed(threads: int) -> None:
    """Time attribution of a 45-minute lesson, and cluster 10,000 windows (a 3-hour-plus lesson)."""
    import resource
    import tracemalloc

    import torch

    from esergui.speakers import SpeakerSettings, attribute_speakers
    from esergui.speakers.roles import assign_roles

    torch.set_num_threads(threads)
    lesson = make_lesson(LessonSpec(3, -9.0, False, "room", seed=7, duration_s=2700.0))
    segments = oracle_segments(lesson.truth)
    speech = sum(b - a for a, b, _, _ in lesson.truth)
    attribute_speakers(lesson.audio[: 30 * SR], [s for s in segments if s.end_s < 30])  # warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    turns = attribute_speakers(lesson.audio, segments)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"\n### Speed ({threads} thread{'s' if threads > 1 else ''})\n")
    print(
        f"45-minute lesson, {speech / 60:.1f} min of speech, {len(segments)} segments -> {len(turns)} turns: "
        f"{wall:.1f} s wall, {cpu:.1f} s CPU (all threads); load average then {_load():.1f}",
        flush=True,
    )
    from esergui.audio import ArrayAudio
    from esergui.speakers.windows import embed_windows

    win = embed_windows(ArrayAudio(lesson.audio), [s for s in segments if s.end_s < 300], 1.5)
    rng = np.random.default_rng(0)
    reps = int(np.ceil(10_000 / len(win)))
    x = np.concatenate(
        [win.embedding + rng.normal(0, 0.01, win.embedding.shape).astype(np.float32) for _ in range(reps)]
    )[:10_000]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    dur = np.tile(win.duration_s, reps)[:10_000]
    seg = np.arange(10_000)
    tracemalloc.start()
    t0 = time.perf_counter()
    assign_roles(x, dur, seg, SpeakerSettings())
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(
        f"speakers and roles for 10,000 windows (~4 hours of speech; real windows of the lesson's first "
        f"5 minutes, repeated with small noise): {elapsed:.1f} s, "
        f"peak numpy/Python allocation {peak:.0f} MiB (process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
    )


def _load() -> float:
    import os

    return os.getloadavg()[0]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="use the tuning seeds instead of the report seeds")
    parser.add_argument("--seeds", type=int, nargs="*", help="explicit seeds (overrides --tune)")
    parser.add_argument("--minutes", type=float, default=10.0, help="lesson length (default 10)")
    parser.add_argument("--no-vad", action="store_true", help="oracle segments only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--embeddings", action="store_true", help="only the encoder comparison")
    parser.add_argument("--speed", action="store_true", help="only the speed and memory figures")
    parser.add_argument("--sweep", action="store_true", help="only the threshold sweep (tuning seeds)")
    parser.add_argument("--conversation-sweep", action="store_true", help="only the conversation sample by threshold")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.embeddings:
        encoder_comparison()
        return
    if args.speed:
        speed(args.threads)
        return
    if args.conversation_sweep:
        conversation_sweep((0.25, 0.30, 0.33, 0.35, 0.40, 0.44))
        return
    if args.sweep:
        sweep(args.seeds or TUNE_SEEDS, args.minutes * 60, (0.38, 0.40, 0.42, 0.44, 0.46, 0.48, 0.50))
        return
    from esergui.speakers import SpeakerSettings

    settings = SpeakerSettings()
    seeds = args.seeds or (TUNE_SEEDS if args.tune else REPORT_SEEDS)
    out = evaluate(seeds, args.minutes * 60, settings, use_vad=not args.no_vad)
    print(
        f"## Speaker attribution, seeds {list(seeds)}, {args.minutes:g}-minute lessons, "
        f"{len(lesson_matrix(seeds, 60))} lessons\n"
    )
    print(f"settings: {settings.to_dict()}")
    for key, groups in out["results"].items():
        print_table(key, groups)
    print_failing(out["per_lesson"])
    print_reliability(out["outcomes"])
    conv = conversation()
    if conv is not None:
        audio, truth = conv
        lesson = BenchLesson(LessonSpec(), audio, truth, audio[:0], "")
        rows = {"oracle segments": [run_lesson(lesson, oracle_segments(truth), settings, False)[0]]}
        vad = vad_segments(audio)
        if vad is not None:
            rows["VAD segments"] = [run_lesson(lesson, vad, settings, False)[0]]
        print_table("Conversation sample (real, 2 speakers; 'teacher' = the speaker with more speech)", rows)


if __name__ == "__main__":
    main()
