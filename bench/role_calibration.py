"""Role-confidence calibration: fit the logistic model of ``esergui.speakers.roles`` on the
tuning lessons, and measure how well the confidences hold (reliability table, ECE) elsewhere.

    .venv/bin/python bench/role_calibration.py --fit        # tuning seeds 101-102: print CONF_SLOPE / CONF_OFFSET
    .venv/bin/python bench/role_calibration.py              # report: seeds 1-2, the demo lesson, the conversation

A *turn* (what a reviewer sees) is right when its role is the role of most of its frames in the
truth; its confidence is the one the pipeline stores. ECE: the turn-count-weighted mean of
|accuracy - mean confidence| over 10 equal-width confidence bins. Lessons are 3-minute
``bench/synth.py`` lessons (``bench/speaker_bench.py``'s matrix), fitted on oracle segments
(truth utterances) and reported on VAD segments (``esergui.segment``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reference import label_frames  # noqa: E402
from bench.speaker_bench import SR, lesson_matrix, make_lesson, oracle_segments  # noqa: E402

FIT_SEEDS = (101, 102)
REPORT_SEEDS = (1, 2)


def window_roles(
    truth: Sequence[tuple[float, float, str, str]], start: np.ndarray, end: np.ndarray, duration_s: float
) -> np.ndarray:
    """Truth role of each window (the role of most of its frames; None where nobody speaks)."""
    ref = label_frames([(a, b, r) for a, b, _, r in truth], duration_s)
    out = np.full(len(start), None, dtype=object)
    for i, (a, b) in enumerate(zip(start, end)):
        seg = ref[int(a * 100) : max(int(a * 100) + 1, int(b * 100))]
        seg = seg[seg != None]  # noqa: E711
        if seg.size:
            names, counts = np.unique(seg.astype(str), return_counts=True)
            out[i] = names[np.argmax(counts)]
    return out


def fit(seeds: Sequence[int], minutes: float) -> None:
    """Features and correctness of every window of the tuning lessons -> logistic regression."""
    from sklearn.linear_model import LogisticRegression

    from esergui.audio import ArrayAudio
    from esergui.speakers import SpeakerSettings
    from esergui.speakers.cluster import cluster_sums
    from esergui.speakers.roles import OUTLIER_Z, assign_roles, role_features
    from esergui.speakers.windows import embed_windows

    settings = SpeakerSettings()
    feats, right = [], []
    for spec in lesson_matrix(seeds, minutes * 60):
        lesson = make_lesson(spec)
        segments = sorted(oracle_segments(lesson.truth), key=lambda s: s.start_s)
        win = embed_windows(ArrayAudio(lesson.audio), segments, settings.window_s)
        a = assign_roles(win.embedding, win.duration_s, win.segment, settings, None, win.start_s)
        sums, counts = cluster_sums(win.embedding, a.speaker, int(a.speaker.max()) + 1)
        f = role_features(win.embedding, a.speaker, sums, counts, a.teacher_speakers)
        truth = window_roles(lesson.truth, win.start_s, win.end_s, len(lesson.audio) / SR)
        known = truth != None  # noqa: E711
        feats.append(f[known])
        right.append((np.where(a.teacher, "teacher", "student") == truth)[known])
        print(
            f"  {spec.name} seed {spec.seed}: {100 * right[-1].mean():.1f} % of windows right",
            file=sys.stderr,
            flush=True,
        )
    x, y = np.concatenate(feats), np.concatenate(right)
    model = LogisticRegression(C=10.0, max_iter=1000).fit(x[:, :1], y)  # Platt scaling of the margin
    odd = x[:, 1] < OUTLIER_Z
    print(
        f"{len(y)} windows of {len(feats)} lessons (seeds {list(seeds)}), {100 * y.mean():.1f} % right; "
        f"{int(odd.sum())} outlier windows (typicality < {OUTLIER_Z}), {100 * y[odd].mean():.1f} % of them right"
    )
    print(f"CONF_SLOPE = {model.coef_[0][0]:.2f}")
    print(f"CONF_OFFSET = {model.intercept_[0]:.2f}")


def turn_outcomes(
    truth: Sequence[tuple[float, float, str, str]], turns: Sequence[Any], duration_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(confidence, right)`` per turn that overlaps truth speech."""
    ref = label_frames([(a, b, r) for a, b, _, r in truth], duration_s)
    conf, right = [], []
    for t in turns:
        seg = ref[int(t.start_s * 100) : max(int(t.start_s * 100) + 1, int(t.end_s * 100))]
        seg = seg[seg != None]  # noqa: E711
        if seg.size:
            names, counts = np.unique(seg.astype(str), return_counts=True)
            conf.append(t.role_confidence)
            right.append(names[np.argmax(counts)] == t.role)
    return np.asarray(conf, float), np.asarray(right, bool)


def reliability(conf: np.ndarray, right: np.ndarray, bins: int = 10) -> tuple[list[list[str]], float]:
    """Rows (bin, turns, mean confidence, accuracy) and the ECE in percentage points."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges) - 1, 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if not m.any():
            continue
        gap = abs(float(right[m].mean()) - float(conf[m].mean()))
        ece += m.sum() / len(conf) * gap
        rows.append(
            [f"{edges[b]:.1f}-{edges[b + 1]:.1f}", str(int(m.sum())), f"{conf[m].mean():.3f}", f"{right[m].mean():.3f}"]
        )
    return rows, 100 * ece


def report(seeds: Sequence[int], minutes: float) -> None:
    from bench.der_bench import recordings
    from esergui.segment import segment_speech
    from esergui.speakers import attribute_speakers

    sets: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for spec in lesson_matrix(seeds, minutes * 60):
        lesson = make_lesson(spec)
        turns = attribute_speakers(lesson.audio, segment_speech(lesson.audio))
        c, r = turn_outcomes(lesson.truth, turns, len(lesson.audio) / SR)
        sets.setdefault(f"synthetic lessons, seeds {list(seeds)} (VAD segments)", ([], []))
        sets[f"synthetic lessons, seeds {list(seeds)} (VAD segments)"][0].append(c)
        sets[f"synthetic lessons, seeds {list(seeds)} (VAD segments)"][1].append(r)
        print(f"  {spec.name} seed {spec.seed}", file=sys.stderr, flush=True)
    for rec in recordings():
        if rec.group == "diarization":
            continue  # no teacher there
        talk: dict[str, float] = {}
        for t in rec.reference:
            talk[t.speaker] = talk.get(t.speaker, 0.0) + t.end_s - t.start_s
        main = "teacher" if "teacher" in talk else max(talk, key=lambda k: talk[k])
        truth = [(t.start_s, t.end_s, t.speaker, "teacher" if t.speaker == main else "student") for t in rec.reference]
        turns = attribute_speakers(rec.audio, segment_speech(rec.audio))
        c, r = turn_outcomes(truth, turns, len(rec.audio) / SR)
        sets[f"{rec.group} ({rec.name})"] = ([c], [r])
        if rec.group == "demo":
            wrong = c[~r]
            print(
                f"\nDemo lesson: {int((~r).sum())} of {len(r)} turns have the wrong role; their confidences: "
                f"{', '.join(f'{v:.2f}' for v in sorted(wrong)) or '-'}; right turns: mean {c[r].mean():.2f}"
            )
    for name, (cs, rs) in sets.items():
        conf, right = np.concatenate(cs), np.concatenate(rs)
        rows, ece = reliability(conf, right)
        print(
            f"\n#### {name}: {len(conf)} turns, {100 * right.mean():.1f} % right, mean confidence {conf.mean():.3f}, "
            f"ECE {ece:.1f} pp\n"
        )
        print("| confidence | turns | mean confidence | share right |\n|---|---|---|---|")
        print("\n".join("| " + " | ".join(r) + " |" for r in rows))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", action="store_true", help="fit the constants on the tuning seeds")
    ap.add_argument("--seeds", type=int, nargs="*")
    ap.add_argument("--minutes", type=float, default=3.0)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    if args.fit:
        fit(args.seeds or FIT_SEEDS, args.minutes)
    else:
        report(args.seeds or REPORT_SEEDS, args.minutes)


if __name__ == "__main__":
    main()
