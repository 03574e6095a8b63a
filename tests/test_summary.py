"""Lesson summary figures: exact values on a hand-made lesson, robustness to missing roles and
emotions, and consistency with the truth of a synthetic lesson built from real EmoDB speech."""

from __future__ import annotations

import math

import numpy as np
import pytest

from esergui.lesson import Utterance
from esergui.summary import binned, emotion_by_role, lesson_summary, summary_frame, turns, union_seconds


def U(
    a: float, b: float, spk: str | None, role: str | None, emo: str | None = None, conf: float | None = None, **kw
) -> Utterance:
    return Utterance(a, b, speaker=spk, role=role, emotion=emo, confidence=conf, **kw)


HAND = [
    U(0, 10, "S1", "teacher", "neutral", 0.9),
    U(10.5, 20, "S1", "teacher", "anger", 0.4),
    U(23, 25, "S2", "student", "happiness", 0.8),  # teacher -> student gap 3.0
    U(26, 30, "S1", "teacher", "neutral", 0.3),  # student -> teacher gap 1.0
    U(30.5, 31, "S2", "student", "neutral", 0.95),  # teacher -> student gap 0.5
    U(32, 33, "S3", "student", "sadness", 0.6),  # student -> student: no wait proxy
]


def test_hand_made_lesson_exact_figures() -> None:
    row = lesson_summary(HAND, 60.0, labels=("anger", "happiness", "neutral", "sadness"), lesson="L")
    assert row["speech_s"] == pytest.approx(27.0)
    assert row["silence_s"] == pytest.approx(33.0) and row["speech_pct"] == pytest.approx(45.0)
    assert row["utterances"] == 6 and row["teacher_utterances"] == 3
    assert row["teacher_talk_s"] == pytest.approx(23.5)
    assert row["teacher_talk_pct_speech"] == pytest.approx(100 * 23.5 / 27)
    assert row["student_talk_pct_lesson"] == pytest.approx(100 * 3.5 / 60)
    assert (row["teacher_turns"], row["student_turns"]) == (2, 3)
    assert row["student_turns_per_min"] == pytest.approx(3.0)
    assert row["teacher_turn_mean_s"] == pytest.approx(12.0) and row["teacher_turn_median_s"] == pytest.approx(12.0)
    assert row["longest_teacher_monologue_s"] == pytest.approx(20.0) and row["longest_teacher_monologue_start_s"] == 0
    assert row["wait_proxy_teacher_to_student_n"] == 2
    assert row["wait_proxy_teacher_to_student_mean_s"] == pytest.approx(1.75)
    assert row["wait_proxy_teacher_to_student_pct_ge_3s"] == pytest.approx(50.0)
    assert row["wait_proxy_student_to_teacher_median_s"] == pytest.approx(1.0)
    # below the 0.5 threshold: the anger (0.4) and the 26-30 s neutral (0.3) count as uncertain
    assert row["emotion_neutral_pct"] == pytest.approx(100 * 10.5 / 27)
    assert row["emotion_uncertain_pct"] == pytest.approx(100 * 13.5 / 27)
    assert row["teacher_emotion_anger_pct"] == 0.0
    assert row["teacher_emotion_uncertain_pct"] == pytest.approx(100 * 13.5 / 23.5)
    assert row["student_emotion_anger_pct"] == 0.0 and row["student_emotion_uncertain_pct"] == 0.0
    assert row["low_confidence_pct"] == pytest.approx(100 * 2 / 6)


def test_human_labels_win() -> None:
    edited = list(HAND)
    edited[0] = U(0, 10, "S1", "teacher", "neutral", 0.9, human_emotion="fear", human_role="student")
    edited[1] = U(10.5, 20, "S1", "teacher", "anger", 0.4, human_emotion="anger")  # confirmed: not uncertain
    row = lesson_summary(edited, 60.0, labels=("neutral",))
    assert row["emotion_fear_pct"] == pytest.approx(100 * 10 / 27)  # a label outside the model's list
    assert row["emotion_anger_pct"] == pytest.approx(100 * 9.5 / 27)
    assert row["emotion_uncertain_pct"] == pytest.approx(100 * 4 / 27)  # only the 0.3 neutral is left uncertain
    assert row["teacher_talk_s"] == pytest.approx(13.5) and row["human_emotion_pct"] == pytest.approx(100 * 2 / 6)


def test_missing_roles_and_emotions_give_empty_columns() -> None:
    bare = [U(1, 2, None, None), U(3, 5, None, None)]
    row = lesson_summary(bare, 10.0)
    assert row["speech_s"] == pytest.approx(3.0)
    for key in (
        "teacher_talk_s",
        "student_turns",
        "student_turns_per_min",
        "wait_proxy_teacher_to_student_n",
        "longest_teacher_monologue_s",
        "low_confidence_pct",
    ):
        assert math.isnan(row[key]), key
    assert not any(k.startswith("emotion_") for k in row)
    assert row["unattributed_talk_s"] == pytest.approx(3.0)
    empty = lesson_summary([], 30.0, labels=("anger",))
    assert empty["speech_s"] == 0 and empty["silence_pct"] == 100 and math.isnan(empty["emotion_anger_pct"])
    frame = binned([], 30.0, labels=("anger",))
    assert len(frame) == 1 and frame.loc[0, "speech_s"] == 0
    assert list(emotion_by_role([], ("anger",)).columns) == ["anger", "uncertain"]
    assert math.isnan(empty["arousal_mean"]) and math.isnan(empty["teacher_valence_mean"])


def test_turn_grouping_without_speakers_uses_roles() -> None:
    utts = [U(0, 1, None, "teacher"), U(1.2, 2, None, "teacher"), U(3, 4, None, "student"), U(5, 6, None, None)]
    got = turns(utts)
    assert [(t.role, t.utterances) for t in got] == [("teacher", 2), ("student", 1), (None, 1)]


def test_synthetic_lesson_matches_truth(emodb) -> None:
    from bench.synth import build_lesson

    lesson = build_lesson(seed=3, duration_s=660.0, noise=None)
    utts = [
        Utterance(t.start_s, t.end_s, speaker=t.speaker, role=t.role, emotion=t.emotion, confidence=0.6)
        for t in lesson.truth
    ]
    row = lesson_summary(utts, lesson.duration_s, lesson="synth")
    truth_teacher = sum(t.end_s - t.start_s for t in lesson.truth if t.role == "teacher")
    truth_student = sum(t.end_s - t.start_s for t in lesson.truth if t.role == "student")
    assert row["teacher_talk_s"] == pytest.approx(truth_teacher)
    assert row["student_talk_s"] == pytest.approx(truth_student)
    assert row["speech_s"] == pytest.approx(truth_teacher + truth_student)
    # the builder's pauses between turns are 0.6-3.0 s
    assert 0.6 <= row["wait_proxy_teacher_to_student_mean_s"] <= 3.0
    assert row["wait_proxy_teacher_to_student_pct_ge_3s"] == 0.0
    emotions = [k for k in row if k.startswith("emotion_")]
    assert sum(row[k] for k in emotions) == pytest.approx(100.0)
    bins = binned(utts, lesson.duration_s, lesson="synth")
    assert list(bins["bin_start_s"]) == [0.0, 300.0, 600.0] and bins["bin_end_s"].iloc[-1] == pytest.approx(660.0)
    assert bins["speech_s"].sum() == pytest.approx(row["speech_s"])
    assert bins["utterances"].sum() == len(utts)
    pct = bins[[c for c in bins if c.startswith("emotion_")]].sum(axis=1)
    assert np.allclose(pct, 100.0)
    by_role = emotion_by_role(utts)
    assert list(by_role.index) == ["all", "teacher", "student"]
    frame = summary_frame([row, lesson_summary(utts[:5], 100.0, lesson="short")])
    assert list(frame["lesson"]) == ["synth", "short"] and len(frame) == 2


def test_union_seconds_merges_overlaps() -> None:
    assert union_seconds([(0, 2), (1, 3), (5, 6), (5.5, 5.7)]) == pytest.approx(4.0)
    assert union_seconds([]) == 0.0
