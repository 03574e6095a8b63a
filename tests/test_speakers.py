"""Speaker attribution on real speech (EmoDB lessons from bench/synth.py, the conversation).

Figures are pinned loosely (clearly above the "everything is the teacher" baseline); the exact
targets live in bench/speaker_bench.py and docs/SPEAKERS.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from bench.speaker_bench import LessonSpec, make_lesson, oracle_segments, score
from bench.synth import SR, build_lesson, load_emodb_index, read_clip, voiced_span
from esergui.progress import Cancelled, CancelToken
from esergui.speakers import SpeakerSettings, SpeakerTurn, attribute_speakers, embed_voice
from esergui.speakers.settings import SpeakerSettingsError

torch.set_num_threads(1)


@dataclass(frozen=True)
class Seg:
    start_s: float
    end_s: float


def _files(speaker: str, n: int, seed: int = 0) -> list[str]:
    rows = [r for r in load_emodb_index() if r["speaker"] == speaker]
    return [rows[i]["file"] for i in np.random.default_rng(seed).choice(len(rows), size=n, replace=False)]


def _clips(speaker: str, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` EmoDB clips of ``speaker``, trimmed to their voiced span."""
    out = []
    for name in _files(speaker, n, seed):
        clip = read_clip(name)
        a, b = voiced_span(clip)
        out.append(clip[a:b])
    return out


def _check_cover(turns: list[SpeakerTurn], segments: list) -> None:
    """Turns lie inside segments, are ordered, and cover every segment exactly."""
    for t in turns:
        assert t.role in ("teacher", "student")
        assert 0.0 <= t.role_confidence <= 1.0
        assert t.speaker.startswith("S") and t.end_s > t.start_s
        assert any(s.start_s - 1e-6 <= t.start_s and t.end_s <= s.end_s + 1e-6 for s in segments)
    assert [t.start_s for t in turns] == sorted(t.start_s for t in turns)
    covered = sum(t.end_s - t.start_s for t in turns)
    assert covered == pytest.approx(sum(s.end_s - s.start_s for s in segments), abs=1e-3)


@pytest.fixture(scope="module")
def lesson3(emodb):
    """Three minutes, three students 6-12 dB under the teacher, room noise."""
    return make_lesson(LessonSpec(n_students=3, student_db=-9.0, seed=11, duration_s=120.0))


def test_one_speaker_is_all_teacher(emodb):
    clips = _clips("11", 8)
    gap = np.zeros(SR // 2, np.float32)
    audio = np.concatenate([np.concatenate([c, gap]) for c in clips]).astype(np.float32)
    segments, pos = [], 0
    for c in clips:
        segments.append(Seg(pos / SR, (pos + len(c)) / SR))
        pos += len(c) + len(gap)
    # One *acted* voice across emotions: the fixed threshold keeps it one speaker. The second
    # look (on by default, for real voices closer than the threshold) splits it by mood, a
    # known limit (docs/SPEAKERS.md), so it is switched off here.
    turns = attribute_speakers(audio, segments, SpeakerSettings(second_look=False))
    _check_cover(turns, segments)
    talk = sum(t.duration_s for t in turns if t.role == "teacher") / sum(t.duration_s for t in turns)
    assert talk >= 0.9
    assert len({t.speaker for t in turns}) <= 2


def test_two_speakers_roles_beat_all_teacher(emodb):
    lesson = make_lesson(LessonSpec(n_students=1, student_db=-6.0, seed=12, duration_s=90.0))
    segments = oracle_segments(lesson.truth)
    turns = attribute_speakers(lesson.audio, segments)
    _check_cover(turns, segments)
    fig = score(lesson.truth, turns, len(lesson.audio) / SR)
    assert fig["role_acc"] >= 90.0
    assert fig["role_acc"] >= fig["all_teacher"] + 8.0
    assert fig["share_err"] <= 8.0
    assert len({t.speaker for t in turns}) >= 2


def test_many_students(emodb, lesson3):
    lesson = make_lesson(LessonSpec(n_students=8, student_db=-12.0, far_field=True, seed=13, duration_s=120.0))
    segments = oracle_segments(lesson.truth)
    turns = attribute_speakers(lesson.audio, segments)
    _check_cover(turns, segments)
    fig = score(lesson.truth, turns, len(lesson.audio) / SR)
    assert fig["role_acc"] >= 90.0 and fig["role_acc"] >= fig["all_teacher"] + 8.0
    assert fig["purity"] >= 80.0
    assert fig["n_hyp"] >= 2


def test_turn_change_inside_one_segment_splits_it(emodb):
    """A teacher's 6 s and a student's 4.5 s with no pause: one VAD segment, two turns."""
    teacher = np.concatenate(_clips("03", 3, seed=1))[: 6 * SR]
    student = np.concatenate(_clips("13", 3, seed=2))[: int(4.5 * SR)]
    student = student * 0.5
    filler = np.concatenate(_clips("03", 6, seed=3))  # more teacher speech elsewhere: the dominant voice
    audio = np.concatenate([filler, np.zeros(SR, np.float32), teacher, student]).astype(np.float32)
    start = (len(filler) + SR) / SR
    segments = [Seg(0.0, len(filler) / SR), Seg(start, len(audio) / SR)]
    # Clean, consistent voices: a finer threshold than the default (tuned for emotional,
    # noisy EmoDB lessons) separates them; the split mechanism is what is tested here.
    turns = attribute_speakers(audio, segments, SpeakerSettings(cluster_threshold=0.35))
    _check_cover(turns, segments)
    inside = [t for t in turns if t.start_s >= start - 1e-6]
    assert len(inside) >= 2
    change = [t.start_s for t in inside[1:]]
    assert any(abs(c - (start + 6.0)) <= 1.6 for c in change)
    assert inside[0].role == "teacher" and inside[-1].role == "student"


def test_very_short_lesson(emodb):
    a, b = _clips("08", 1)[0][: int(0.8 * SR)], _clips("15", 1)[0][: int(0.6 * SR)]
    audio = np.concatenate([np.zeros(SR // 4), a, np.zeros(SR // 2), b, np.zeros(SR // 4)]).astype(np.float32)
    s1 = Seg(0.25, 0.25 + len(a) / SR)
    s2 = Seg(s1.end_s + 0.5, s1.end_s + 0.5 + len(b) / SR)
    turns = attribute_speakers(audio, [s1, s2])
    _check_cover(turns, [s1, s2])
    assert {t.role for t in turns} <= {"teacher", "student"}


def test_silence_and_no_segments():
    silence = np.zeros(5 * SR, np.float32)
    assert attribute_speakers(silence, []) == []
    turns = attribute_speakers(silence, [Seg(1.0, 2.0)])  # a segment of pure silence still gets a turn
    assert len(turns) == 1 and turns[0].start_s == 1.0 and turns[0].end_s == 2.0


def test_enrolment_fixes_a_lesson_where_students_talk_most(emodb):
    """Short teacher turns, long student turns: the dominant voice is the student's."""
    enrol_clips = _clips("03", 3, seed=7)
    keep_back = tuple(_files("03", 3, seed=7))  # never used in the lesson
    lesson = build_lesson(
        seed=14,
        duration_s=90.0,
        teacher="03",
        students=("16",),
        student_rel_db=(-6.0, -6.0),
        teacher_turn_utterances=(1, 1),
        student_turn_utterances=5,
        teacher_again_prob=0.0,
        exclude_files=keep_back,
    )
    truth = [(t.start_s, t.end_s, t.speaker, t.role) for t in lesson.truth]
    segments = [Seg(t.start_s, t.end_s) for t in lesson.truth]
    duration = len(lesson.audio) / SR
    auto = score(truth, attribute_speakers(lesson.audio, segments), duration)
    assert auto["truth_share"] < 50.0  # the students really talk most
    voice = embed_voice(np.concatenate(enrol_clips))
    enrolled = score(truth, attribute_speakers(lesson.audio, segments, teacher_embedding=voice), duration)
    assert enrolled["role_acc"] >= auto["role_acc"] + 20.0
    assert enrolled["role_acc"] >= 90.0
    assert enrolled["share_err"] <= 8.0


def test_enrolment_equals_or_improves_a_teacher_led_lesson(emodb, lesson3):
    segments = oracle_segments(lesson3.truth)
    duration = len(lesson3.audio) / SR
    auto = score(lesson3.truth, attribute_speakers(lesson3.audio, segments), duration)
    voice = embed_voice(lesson3.enrol)
    enrolled = score(lesson3.truth, attribute_speakers(lesson3.audio, segments, teacher_embedding=voice), duration)
    assert enrolled["role_acc"] >= auto["role_acc"] - 0.5
    assert enrolled["role_acc"] >= enrolled["all_teacher"] + 5.0


def test_embed_voice_is_a_normalised_voice_print(emodb):
    same_a = embed_voice(np.concatenate(_clips("16", 3, seed=4)))
    same_b = embed_voice(np.concatenate(_clips("16", 3, seed=5)))
    other = embed_voice(np.concatenate(_clips("10", 3, seed=4)))
    assert same_a.shape == (256,) and same_a.dtype == np.float32
    assert np.linalg.norm(same_a) == pytest.approx(1.0, abs=1e-5)
    assert float(same_a @ same_b) > float(same_a @ other) + 0.1
    resampled = embed_voice(np.concatenate(_clips("16", 3, seed=4))[::2], sr=8000)
    assert float(resampled @ same_a) > 0.8
    with pytest.raises(ValueError):
        embed_voice(np.zeros(SR, np.float32))


def test_audio_source_progress_and_cancel(emodb, lesson3):
    class Source:  # the AudioSource protocol: random access by sample range
        sample_rate = SR
        n_samples = len(lesson3.audio)

        def read(self, start: int, stop: int) -> np.ndarray:
            return lesson3.audio[start:stop]

    segments = oracle_segments(lesson3.truth)[:20]
    seen: list[float] = []
    turns = attribute_speakers(Source(), segments, progress=lambda f, m="": seen.append(f))
    assert turns and seen and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        attribute_speakers(Source(), segments, cancel=token)


def test_settings_round_trip_and_validation():
    settings = SpeakerSettings(co_teaching=True, num_speakers=3, window_s=2.0)
    assert SpeakerSettings.from_dict(settings.to_dict() | {"from_the_future": 1}) == settings
    for bad in ({"num_speakers": 0}, {"window_s": 0.1}, {"cluster_threshold": 1.5}, {"max_speakers": 0}):
        with pytest.raises(SpeakerSettingsError):
            SpeakerSettings(**bad)


def test_co_teaching_gives_two_teachers(emodb):
    lesson = build_lesson(seed=21, duration_s=90.0, teacher="11", students=("16",), noise="room")
    # The second teacher takes over after the lesson: a long stretch of another voice at the
    # teacher's level, in 2.8 s segments.
    second = np.concatenate(_clips("14", 9, seed=6))
    second = second / np.sqrt(np.mean(second**2)) * 10 ** (-24 / 20)
    audio = np.concatenate([lesson.audio, np.zeros(SR, np.float32), second.astype(np.float32)])
    start2 = (len(lesson.audio) + SR) / SR
    segments = [Seg(t.start_s, t.end_s) for t in lesson.truth] + [
        Seg(start2 + k * 3.0, min(start2 + k * 3.0 + 2.8, len(audio) / SR)) for k in range(int(len(second) / SR // 3))
    ]
    turns = attribute_speakers(audio, segments, SpeakerSettings(co_teaching=True))
    teachers = {t.speaker for t in turns if t.role == "teacher"}
    assert len(teachers) == 2
    late = [t for t in turns if t.start_s >= start2]
    assert sum(t.duration_s for t in late if t.role == "teacher") >= 0.8 * sum(t.duration_s for t in late)
