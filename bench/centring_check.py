"""Does centring the speaker embeddings on the recording's mean separate voices better?

    .venv/bin/python -m bench.centring_check tune   # the decision: tuning lessons, seeds 101-102
    .venv/bin/python -m bench.centring_check real   # looked at afterwards: real recordings + demo

Oracle segments (the reference turns), 1.5 s windows embedded as the speaker stage does
(:func:`esergui.speakers.windows.embed_windows`); a window's label is the reference speaker
covering most of it. Per recording, raw and centred (minus the mean window embedding,
re-normalised): mean cosine within and between speakers, pairwise EER
(:func:`bench.speaker_encoders.eer`), purity of an average-linkage cut at the true speaker count,
and the silhouette of the true labels. Results: docs/SPEAKERS.md (limits).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from bench.der_bench import recordings
from bench.speaker_bench import LessonSpec, make_lesson
from bench.speaker_encoders import eer
from esergui.audio import as_source
from esergui.speakers.cluster import silhouette
from esergui.speakers.windows import embed_windows


@dataclass(frozen=True)
class _Span:
    start_s: float
    end_s: float


def labelled_windows(audio: np.ndarray, truth: list[tuple[float, float, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Window embeddings ``(N, 256)`` and their majority reference speaker ``(N,)``."""
    w = embed_windows(as_source(audio), [_Span(a, b) for a, b, _ in truth], 1.5)
    labels = []
    for a, b in zip(w.start_s, w.end_s):
        cover: dict[str, float] = {}
        for t0, t1, who in truth:
            if min(b, t1) > max(a, t0):
                cover[who] = cover.get(who, 0.0) + min(b, t1) - max(a, t0)
        labels.append(max(cover, key=cover.__getitem__) if cover else "")
    keep = np.array([bool(x) for x in labels])
    return w.embedding[keep], np.unique(np.array(labels)[keep], return_inverse=True)[1]


def centred(x: np.ndarray) -> np.ndarray:
    y = x - x.mean(axis=0)
    return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-9)


def purity_at_k(x: np.ndarray, labels: np.ndarray, k: int) -> float:
    cut = fcluster(linkage(x, "average", "cosine"), k, "maxclust")
    return 100 * sum(np.bincount(labels[cut == c]).max() for c in np.unique(cut)) / len(labels)


def report(name: str, x: np.ndarray, labels: np.ndarray) -> None:
    k = int(labels.max()) + 1
    iu = np.triu_indices(len(x), 1)
    same = (labels[:, None] == labels[None, :])[iu]
    for tag, e in (("raw", x), ("centred", centred(x))):
        sim = (e @ e.T)[iu]
        print(
            f"| {name} | {tag} | {len(e)} | {k} | {sim[same].mean():.2f} | {sim[~same].mean():.2f} | "
            f"{eer(e, None, labels):.1f} | {purity_at_k(e, labels, k):.1f} | {silhouette(e, labels):.3f} |",
            flush=True,
        )


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "tune"
    print(
        "| recording | embeddings | windows | speakers | cos within | cos between | EER % | purity@k % | silhouette |"
    )
    print("|---" * 9 + "|")
    if which == "tune":
        for seed in (101, 102):
            for spec in (
                LessonSpec(3, -6.0, False, "room", seed, 180.0),
                LessonSpec(3, -12.0, True, "room", seed, 180.0),
                LessonSpec(8, -6.0, False, "room", seed, 180.0),
            ):
                lesson = make_lesson(spec)
                report(f"seed {seed}, {spec.group}", *labelled_windows(lesson.audio, [t[:3] for t in lesson.truth]))
    else:
        for r in recordings():
            report(
                f"{r.group}: {r.name}",
                *labelled_windows(r.audio, [(t.start_s, t.end_s, t.speaker) for t in r.reference]),
            )


if __name__ == "__main__":
    main()
