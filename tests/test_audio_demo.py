"""The bundled demo lesson: small, decodable, consistent with its truth, segmentable, reproducible."""

from __future__ import annotations

import csv
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from bench.reference import frames, speech_prf
from esergui.audio import load_audio, probe
from esergui.paths import DEMO_LESSON
from esergui.segment import segment_speech

TRUTH = DEMO_LESSON.with_name("demo_lesson_truth.csv")


@pytest.fixture(scope="module")
def truth() -> list[dict[str, str]]:
    with open(TRUTH, newline="") as fh:
        return list(csv.DictReader(fh))


def test_demo_file_is_small_and_decodable():
    assert DEMO_LESSON.is_file() and DEMO_LESSON.stat().st_size < 2_000_000
    info = probe(DEMO_LESSON)
    assert (info.sample_rate, info.channels) == (16000, 1)
    assert 120 <= info.duration_s <= 240


def test_truth_describes_a_lesson(truth):
    spans = [(float(r["start_s"]), float(r["end_s"])) for r in truth]
    assert all(a < b for a, b in spans) and all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
    talk: dict[str, float] = {}
    for r, (a, b) in zip(truth, spans):
        talk[r["role"]] = talk.get(r["role"], 0.0) + b - a
    students = {r["speaker"] for r in truth if r["role"] == "student"}
    assert len(students) >= 3 and talk["teacher"] > 2 * talk["student"]
    turn_gaps = [
        a2 - b1
        for (r1, (_, b1)), (r2, (a2, _)) in zip(zip(truth, spans), zip(truth[1:], spans[1:]))
        if r1["turn"] != r2["turn"]
    ]
    assert 0.5 <= min(turn_gaps) and max(turn_gaps) <= 3.05


def test_demo_segments_match_truth(truth):
    audio = load_audio(DEMO_LESSON)
    segments = segment_speech(audio)
    ref = frames([(float(r["start_s"]), float(r["end_s"])) for r in truth], audio.size / 16000)
    hyp = frames([(s.start_s, s.end_s) for s in segments], audio.size / 16000)
    p, r, f = speech_prf(ref, hyp)
    assert f >= 0.93, (p, r, f)
    student = frames(
        [(float(t["start_s"]), float(t["end_s"])) for t in truth if t["role"] == "student"], audio.size / 16000
    )
    n = min(student.size, hyp.size)
    assert hyp[:n][student[:n]].mean() > 0.9  # the quieter, far-field students are found too


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_first_sentence_is_reproducible(truth):
    spec = importlib.util.spec_from_file_location("make_demo_lesson", DEMO_LESSON.with_name("make_demo_lesson.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    first = truth[0]
    with tempfile.TemporaryDirectory() as tmp:
        clip = module.speak(module.VOICES[first["speaker"]], first["text"], Path(tmp), 0)
    assert clip.size / 16000 == pytest.approx(float(first["end_s"]) - float(first["start_s"]), abs=0.011)
    assert np.isfinite(clip).all()
