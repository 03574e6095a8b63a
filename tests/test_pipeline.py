"""The analysis pipeline on real speech: stages, progress, partial results, skipped stages,
cancel, and re-analysis in a workspace that keeps human edits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from bench.reference import frames, speech_prf
from esergui.lesson import LessonStatus
from esergui.pipeline import STAGES, Pipeline, PipelineSettings, analyze_into_workspace
from esergui.progress import Cancelled, CancelToken
from esergui.workspace import Workspace

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def lesson_file(tmp_path_factory: pytest.TempPathFactory, emodb: Path):
    """A 75-second synthetic lesson (EmoDB teacher + students, room noise) and its truth."""
    from bench.synth import build_lesson

    lesson = build_lesson(seed=11, duration_s=75.0, noise="room", snr_db=20.0)
    path = tmp_path_factory.mktemp("pipe") / "lesson.flac"
    sf.write(path, lesson.audio, lesson.sr, subtype="PCM_16")
    return path, lesson


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    """The pipeline with the bundled model (these tests check the plumbing on real inference;
    bench/ measures accuracy)."""
    from model.inference import bundled_model_path

    assert bundled_model_path().is_file(), "the bundled model file is missing from model/weights/"
    return Pipeline(PipelineSettings(device="cpu", batch_s=20.0))


@pytest.fixture(scope="module")
def full_run(pipeline: Pipeline, lesson_file):
    path, _ = lesson_file
    events: list[tuple[str, float, str]] = []
    partial: list = []
    result = pipeline.analyze(path, progress=lambda s, f, m: events.append((s, f, m)), on_utterances=partial.append)
    return result, events, partial


def test_stages_progress_and_timings(full_run) -> None:
    result, events, _ = full_run
    assert result.skipped == {}, result.skipped  # every stage runs: a model that does not load fails here
    ran = list(STAGES)
    assert [s for s in dict.fromkeys(e[0] for e in events)] == ran  # stages in order
    for stage in ran:
        fractions = [f for s, f, _ in events if s == stage]
        assert fractions[0] == 0.0 and fractions[-1] == 1.0
        assert all(0.0 <= f <= 1.0 for f in fractions)
        assert result.run.timings_s[stage] >= 0.0
    assert set(result.run.timings_s) == set(ran)
    assert result.duration_s == pytest.approx(75.0, abs=0.01)
    assert result.run.settings["model"]["device"] == "cpu"


def test_utterances_cover_the_speech(full_run, lesson_file) -> None:
    result, _, _ = full_run
    _, lesson = lesson_file
    ref = frames([(t.start_s, t.end_s) for t in lesson.truth], lesson.duration_s)
    hyp = frames([(u.start_s, u.end_s) for u in result.utterances], lesson.duration_s)
    precision, recall, f1 = speech_prf(ref, hyp)
    assert f1 > 0.85, (precision, recall)
    starts = [u.start_s for u in result.utterances]
    assert starts == sorted(starts) and all(u.end_s > u.start_s for u in result.utterances)


def test_speakers_and_roles(full_run) -> None:
    result, _, _ = full_run
    assert "speakers" not in result.skipped, result.skipped  # a stage that cannot run is a failure here
    assert {u.role for u in result.utterances} <= {"teacher", "student"}
    assert {s.label for s in result.speakers} == {u.speaker for u in result.utterances}
    # plumbing, not the speaker stage's accuracy (bench/speaker_bench.py measures that): both
    # roles arrive, every speaker's role is the role of most of its speech
    teacher = sum(u.duration_s for u in result.utterances if u.role == "teacher")
    speech = sum(u.duration_s for u in result.utterances)
    assert 0.2 < teacher / speech < 1.0
    for spk in result.speakers:
        mine = [u for u in result.utterances if u.speaker == spk.label]
        by_role = {r: sum(u.duration_s for u in mine if u.role == r) for r in ("teacher", "student")}
        assert spk.role == max(by_role, key=by_role.get)
    assert all(0.0 <= u.role_confidence <= 1.0 for u in result.utterances)


def test_emotions_and_partial_results(full_run, pipeline: Pipeline) -> None:
    result, _, partial = full_run
    assert "emotions" not in result.skipped, result.skipped  # the bundled model must load
    labels = result.labels
    assert labels and result.run.labels == labels and result.run.model_name
    for u in result.utterances:
        assert set(u.probabilities) == set(labels)
        assert sum(u.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
        assert u.emotion == max(u.probabilities, key=u.probabilities.get)
        assert u.confidence == pytest.approx(u.probabilities[u.emotion])
    # partial batches arrive in time order and add up to the final list
    assert len(partial) >= 2
    flat = [u for batch in partial for u in batch]
    assert [(u.start_s, u.emotion) for u in flat] == [(u.start_s, u.emotion) for u in result.utterances]
    assert result.run.device == pipeline.device


def test_skipped_stages_are_said(lesson_file) -> None:
    path, _ = lesson_file
    pipe = Pipeline(PipelineSettings(device="cpu"), recognizer=None, speaker_stage=None)
    assert set(pipe.prepare()) == {"speakers", "emotions"}
    result = pipe.analyze(path)
    assert set(result.skipped) == {"speakers", "emotions"}
    assert set(result.run.timings_s) == {"decode", "segment"}
    assert result.utterances and all(u.emotion is None and u.role is None for u in result.utterances)


def test_cancel_stops_and_restores_the_lesson(tmp_path: Path, lesson_file) -> None:
    path, _ = lesson_file
    token = CancelToken()

    def progress(stage: str, fraction: float, message: str) -> None:
        if stage == "segment" and fraction > 0:
            token.cancel()

    pipe = Pipeline(PipelineSettings(device="cpu"), recognizer=None, speaker_stage=None)
    with Workspace.open(tmp_path / "ws") as ws:
        lesson = ws.add_lesson(path)
        with pytest.raises(Cancelled):
            analyze_into_workspace(ws, lesson.id, pipe, progress=progress, cancel=token)
        assert ws.lesson(lesson.id).status is LessonStatus.NOT_ANALYSED
        assert ws.utterances(lesson.id) == [] and ws.runs(lesson.id) == []


def test_reanalysis_in_workspace_keeps_human_edits(tmp_path: Path, lesson_file, pipeline: Pipeline) -> None:
    path, lesson_truth = lesson_file
    with Workspace.open(tmp_path / "ws") as ws:
        lesson = ws.add_lesson(path)
        result, report = analyze_into_workspace(ws, lesson.id, pipeline)
        assert ws.lesson(lesson.id).status is LessonStatus.ANALYSED
        assert ws.lesson(lesson.id).duration_s == pytest.approx(75.0, abs=0.01)
        assert ws.cache_file(ws.lesson(lesson.id)).is_file()  # the decode cache stays for the GUI
        utts = ws.utterances(lesson.id)
        assert len(utts) == report.utterances == len(result.utterances)
        # "Recognise again" on an unchanged utterance reads its voice against the same speaker
        # statistics as the analysis did, so it gives the stored probabilities back
        from esergui.audio.source import WavAudio
        from esergui.review.recognise import recognise_job

        again = recognise_job(ws, int(utts[0].id), WavAudio(ws.cache_file(ws.lesson(lesson.id))), "cpu")(
            lambda *a: None, CancelToken(), lambda *a: None
        )
        assert again == pytest.approx(utts[0].probabilities, abs=2e-3)
        labels = ws.labels(lesson.id)
        pick = labels[0] if labels else "anger"
        ws.set_emotion([utts[1].id], pick)
        ws.set_boundaries(utts[2].id, utts[2].start_s + 0.1, utts[2].end_s)
        ws.delete_utterances([utts[3].id])
        created = ws.create_utterance(lesson.id, 74.0, 74.8, note="cough")
        result2, report2 = analyze_into_workspace(ws, lesson.id, pipeline)
        after = {u.id: u for u in ws.utterances(lesson.id)}
        assert after[utts[1].id].human_emotion == pick
        assert after[utts[2].id].start_s == pytest.approx(utts[2].start_s + 0.1)
        assert utts[3].id not in after
        assert not any(u.start_s < utts[3].end_s and u.end_s > utts[3].start_s for u in after.values())
        assert after[created].note == "cough"
        assert report2.kept_human == 4 and ws.lesson(lesson.id).status is LessonStatus.EDITED
        assert "emotions" not in result2.skipped, result2.skipped
        # pinned spans were analysed as they are: fresh model probabilities
        assert set(after[utts[2].id].probabilities) == set(labels)
        assert set(after[created].probabilities) == set(labels)
        assert len(ws.runs(lesson.id)) == 2


def test_a_lesson_without_speech(tmp_path: Path, pipeline: Pipeline) -> None:
    from bench.synth import room_noise
    from esergui.formats.exporting import export_lesson

    path = tmp_path / "empty_room.wav"
    sf.write(path, 0.003 * room_noise(16000 * 8, np.random.default_rng(0)), 16000)
    result = pipeline.analyze(path)
    assert result.utterances == [] and result.duration_s == pytest.approx(8.0)
    written = export_lesson(
        tmp_path / "out", "empty room", result.utterances, result.duration_s, result.labels, run=result.run
    )
    assert written.summary["speech_s"] == 0 and written.summary["silence_pct"] == 100
