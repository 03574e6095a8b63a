"""Clustering and role assignment on real voice embeddings (EmoDB windows), incl. the bounded
path used for long lessons."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.synth import load_emodb_index, read_clip, voiced_span
from esergui.speakers import SpeakerSettings
from esergui.speakers.cluster import cluster_embeddings
from esergui.speakers.encoder import VoiceEncoder
from esergui.speakers.roles import assign_roles, smooth_within_segments

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def windows(emodb):
    """1.5 s windows of a lesson-like sequence: turns of 3 clips of a dominant speaker (03,
    pauses 0.3 s) alternating with single clips of two others (13, 16), 1 s pauses between
    speakers. Returns embeddings, speaker per window, durations, start times."""
    rows = load_emodb_index()
    rng = np.random.default_rng(0)
    picks = {}
    for speaker, n in (("03", 36), ("13", 12), ("16", 12)):
        mine = [r for r in rows if r["speaker"] == speaker]
        picks[speaker] = [mine[i]["file"] for i in rng.choice(len(mine), size=n, replace=False)]
    order = []
    for k in range(12):
        order += [("03", picks["03"][3 * k + j]) for j in range(3)]
        order.append(("13" if k % 2 == 0 else "16", picks["13" if k % 2 == 0 else "16"][k]))
    clips, who, starts = [], [], []
    t, prev = 0.0, None
    for speaker, name in order:
        clip = read_clip(name)
        a, b = voiced_span(clip)
        t += 0.0 if prev is None else (0.3 if speaker == prev else 1.0)
        for s in range(a, max(a + 1, b - 8000), 24000):
            piece = clip[s : min(b, s + 24000)]
            clips.append(piece)
            who.append(speaker)
            starts.append(t)
            t += len(piece) / 16000
        prev = speaker
    x = VoiceEncoder.shared().embed(clips)
    return x, np.array(who), np.array([len(c) / 16000 for c in clips]), np.array(starts)


def _purity(labels: np.ndarray, truth: np.ndarray) -> float:
    total = 0
    for c in np.unique(labels):
        _, counts = np.unique(truth[labels == c], return_counts=True)
        total += counts.max()
    return total / len(labels)


def test_bounded_clustering_matches_full_clustering(windows):
    x, who, _, _ = windows
    full = cluster_embeddings(x, 0.44)
    bounded = cluster_embeddings(x, 0.44, max_items=50)  # far fewer than the windows
    assert len(x) > 60
    assert _purity(bounded, who) >= _purity(full, who) - 0.1
    # Windows grouped together by the full clustering mostly stay together.
    same_full = full[:, None] == full[None, :]
    same_bounded = bounded[:, None] == bounded[None, :]
    assert np.mean(same_full == same_bounded) >= 0.8


def test_fixed_number_and_cap(windows):
    x, who, dur, start = windows
    assert len(np.unique(cluster_embeddings(x, 0.44, num_clusters=3))) == 3
    result = assign_roles(x, dur, np.arange(len(x)), SpeakerSettings(max_speakers=2, cluster_threshold=0.2))
    assert result.speaker.max() <= 1


def test_dominant_voice_is_the_teacher_with_fragment_merging(windows):
    """Clean, emotional EmoDB speech splits the teacher's voice in two clusters; merging the
    clusters that alternate with the teacher without a pause gives the teacher back."""
    x, who, dur, start = windows
    settings = SpeakerSettings(teacher_merge_adjacency=0.3)
    result = assign_roles(x, dur, np.arange(len(x)), settings, start_s=start)
    teacher = who == "03"
    accuracy = np.mean(result.teacher == teacher)
    assert accuracy >= 0.85 and accuracy > teacher.mean() + 0.05
    assert np.all((result.confidence > 0) & (result.confidence < 1))
    # Confidence means something: right answers are more confident than wrong ones on average.
    right = result.teacher == teacher
    if (~right).any():
        assert result.confidence[right].mean() > result.confidence[~right].mean()


def test_smoothing_fixes_lone_windows_only_inside_a_segment():
    labels = np.array([0, 0, 1, 0, 2, 2, 0, 2])
    segment = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    out = smooth_within_segments(labels, segment)
    assert out.tolist() == [0, 0, 0, 0, 2, 2, 0, 2]
