"""Arousal/valence and "uncertain" through the Qt-free product, on real EmoDB speech classified
by the bundled model: summary shares (labels + uncertain = 100 per role and per bin), mean
arousal/valence, the ``esergui predict`` and ``esergui analyze`` CSV columns, and a workspace
written by an older version (schema 1) that gets arousal/valence when read."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from esergui.lesson import UNCERTAIN, Utterance
from esergui.summary import SummarySettings, binned, emotion_by_role, lesson_summary
from model.affect import affect_matrix

# two speakers of EmoDB, four clips each: a "teacher" (03, male) and a "student" (08, female)
CLIPS = {
    "teacher": ["03a01Wa.wav", "03a02Ta.wav", "03a01Fa.wav", "03a01Nc.wav"],
    "student": ["08a01Wa.wav", "08a02Tb.wav", "08a01Fd.wav", "08a01Na.wav"],
}


@pytest.fixture(scope="module")
def recognised(emodb: Path) -> tuple[list[Utterance], list[str]]:
    """The eight clips classified by the bundled model (each speaker normalised on their own
    clips, as the pipeline does), laid out one after another with 1 s pauses."""
    from model.data import load_audio
    from model.inference import EmotionRecognizer

    rec = EmotionRecognizer.load(device="cpu")
    files = [(role, name) for role, names in CLIPS.items() for name in names]
    wavs = [load_audio(emodb / "wav" / name) for _, name in files]
    probs = rec.predict(wavs, speakers=[role for role, _ in files])
    utts, t = [], 0.0
    for (role, name), wav, p in zip(files, wavs, probs):
        k = int(np.argmax(p))
        dur = len(wav) / 16000
        utts.append(
            Utterance(
                t,
                t + dur,
                speaker=name[:2],
                role=role,
                emotion=rec.labels[k],
                confidence=float(p[k]),
                probabilities={lab: float(x) for lab, x in zip(rec.labels, p)},
            )
        )
        t += dur + 1.0
    return utts, list(rec.labels)


def test_shares_with_uncertain_sum_to_100_per_role_and_bin(recognised: tuple[list[Utterance], list[str]]) -> None:
    utts, labels = recognised
    confidences = sorted(u.confidence for u in utts)
    threshold = (confidences[3] + confidences[4]) / 2  # half of the clips are below it
    settings = SummarySettings(low_confidence=threshold)
    row = lesson_summary(utts, utts[-1].end_s + 1, labels, settings=settings)
    columns = [*labels, UNCERTAIN]
    for prefix in ("", "teacher_", "student_"):
        total = sum(row[f"{prefix}emotion_{x}_pct"] for x in columns)
        assert total == pytest.approx(100.0), prefix
    below = [u for u in utts if u.confidence < threshold]
    assert len(below) == 4
    assert row["emotion_uncertain_pct"] == pytest.approx(
        100 * sum(u.duration_s for u in below) / sum(u.duration_s for u in utts)
    )
    by_role = emotion_by_role(utts, labels, threshold)
    assert list(by_role.columns) == columns and np.allclose(by_role.sum(axis=1), 100.0)
    bins = binned(utts, utts[-1].end_s + 1, labels, bin_s=7.0, threshold=threshold)
    shares = bins[[f"emotion_{x}_pct" for x in columns]]
    spoken = bins["speech_s"] > 0
    assert spoken.sum() >= 3 and np.allclose(shares[spoken].sum(axis=1), 100.0)
    # a person's label is never uncertain, even where the model was unsure
    confirmed = [
        Utterance(
            u.start_s,
            u.end_s,
            speaker=u.speaker,
            role=u.role,
            emotion=u.emotion,
            confidence=u.confidence,
            probabilities=u.probabilities,
            human_emotion=u.emotion if u in below else None,
        )
        for u in utts
    ]
    assert lesson_summary(confirmed, utts[-1].end_s + 1, labels, settings=settings)["emotion_uncertain_pct"] == 0.0


def test_mean_arousal_and_valence_per_role_and_bin(recognised: tuple[list[Utterance], list[str]]) -> None:
    utts, labels = recognised
    row = lesson_summary(utts, utts[-1].end_s + 1, labels)
    for role in ("teacher", "student"):
        mine = [u for u in utts if u.role == role]
        weights = np.array([u.duration_s for u in mine])
        expected = np.average([u.arousal for u in mine], weights=weights)
        assert row[f"{role}_arousal_mean"] == pytest.approx(expected)
        assert -1 <= row[f"{role}_valence_mean"] <= 1
    bins = binned(utts, utts[-1].end_s + 1, labels, bin_s=1000.0)  # one bin: the lesson's means
    assert bins.loc[0, "arousal_mean"] == pytest.approx(row["arousal_mean"])
    assert bins.loc[0, "teacher_valence_mean"] == pytest.approx(row["teacher_valence_mean"])
    # the anger clips (EmoDB letter W) read as more aroused than the sadness clips (T)
    letters = [name[5] for names in CLIPS.values() for name in names]
    anger = [u.arousal for u, letter in zip(utts, letters) if letter == "W"]
    sad = [u.arousal for u, letter in zip(utts, letters) if letter == "T"]
    assert min(anger) > max(sad)


def test_predict_csv_has_arousal_and_valence(emodb: Path, tmp_path: Path) -> None:
    from esergui.cli import main

    files = [str(emodb / "wav" / name) for name in ("03a01Wa.wav", "03a02Ta.wav")]
    out = tmp_path / "predict.csv"
    assert main(["predict", *files, "--csv", str(out), "--device", "cpu"]) == 0
    table = pd.read_csv(out)
    labels = [c[2:] for c in table.columns if c.startswith("p_")]
    assert list(table.columns[-2:]) == ["arousal", "valence"] and len(labels) == 7
    expected = affect_matrix(table[[f"p_{x}" for x in labels]].to_numpy(), labels)
    assert np.allclose(table[["arousal", "valence"]].to_numpy(), expected, atol=2e-4)  # 4 decimals of p
    assert table["arousal"].between(-1, 1).all() and table.loc[0, "arousal"] > table.loc[1, "arousal"]


def test_analyze_csvs_have_affect_columns(emodb: Path, tmp_path: Path) -> None:
    from esergui.cli import main

    lesson = tmp_path / "two clips.wav"
    _concatenate([emodb / "wav" / "03a01Wa.wav", emodb / "wav" / "03a02Ta.wav"], lesson)
    out = tmp_path / "out"
    assert main(["analyze", str(lesson), "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    utts = pd.read_csv(out / "two_clips_utterances.csv")
    assert len(utts) >= 1 and {"arousal", "valence"} <= set(utts.columns)
    assert utts["arousal"].between(-1, 1).all() and utts["valence"].between(-1, 1).all()
    summary = pd.read_csv(out / "two_clips_summary.csv")
    assert {"arousal_mean", "valence_mean", "emotion_uncertain_pct", "teacher_arousal_mean"} <= set(summary.columns)
    bins = pd.read_csv(out / "two_clips_bins.csv")
    assert {"arousal_mean", "valence_mean", "emotion_uncertain_pct"} <= set(bins.columns)


def _concatenate(parts: list[Path], dest: Path) -> None:
    import soundfile as sf

    audio = [sf.read(str(p), dtype="float32")[0] for p in parts]
    pause = np.zeros(16000, dtype=np.float32)
    sf.write(str(dest), np.concatenate([pause, audio[0], pause, audio[1], pause]), 16000)


def test_workspace_from_schema_1_reads_arousal_and_valence(emodb: Path, tmp_path: Path) -> None:
    """A workspace written before arousal/valence existed (schema version 1, probabilities in
    the utterances table) opens, migrates and gives arousal/valence from what it stored."""
    from esergui.workspace import DB_NAME, Workspace, full_hash, quick_hash, schema

    wav = tmp_path / "old.wav"
    shutil.copyfile(emodb / "wav" / "03a01Wa.wav", wav)
    folder = tmp_path / "ws"
    folder.mkdir()
    con = sqlite3.connect(folder / DB_NAME)
    con.executescript(schema.MIGRATIONS[0])
    con.execute("INSERT INTO meta VALUES ('app', ?), ('schema_version', '1')", (schema.APP_ID,))
    con.execute(
        "INSERT INTO lessons (name, audio_path, audio_size, audio_quick_hash, audio_sha256, created, status)"
        " VALUES ('old lesson', ?, ?, ?, ?, '2024-01-01T00:00:00+00:00', 'analysed')",
        (str(wav), wav.stat().st_size, quick_hash(wav), full_hash(wav)),
    )
    probs = {"anger": 0.7, "neutral": 0.2, "sadness": 0.1}
    con.execute(
        "INSERT INTO utterances (lesson_id, start_s, end_s, role, emotion, confidence, probabilities)"
        " VALUES (1, 0.0, 1.0, 'teacher', 'anger', 0.7, ?)",
        (json.dumps(probs),),
    )
    con.execute(
        "INSERT INTO utterances (lesson_id, start_s, end_s, role, emotion, confidence, probabilities, human_emotion)"
        " VALUES (1, 1.5, 2.5, 'teacher', 'neutral', 0.3, ?, 'sadness')",
        (json.dumps({"neutral": 0.3, "anger": 0.7}),),
    )
    con.commit()
    con.close()
    with Workspace.open(folder) as ws:
        [lesson] = ws.lessons()
        first, second = ws.utterances(lesson.id)
        assert first.arousal == pytest.approx(0.7 * 0.9238795 + 0.1 * -0.7071068, abs=1e-6)
        assert (second.arousal, second.valence) == pytest.approx((-0.7071068, -0.7071068))  # the person's label
        row = lesson_summary(ws.utterances(lesson.id), 2.5, ws.labels(lesson.id))
        assert row["teacher_arousal_mean"] == pytest.approx((first.arousal + second.arousal) / 2)
        assert row["emotion_uncertain_pct"] == 0.0  # 0.7 is confident; the 0.3 one was labelled by a person
