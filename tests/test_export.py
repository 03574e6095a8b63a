"""Exports: utterance/summary/bins CSV columns and values, the confidence of a human label,
output names that are unique and readable for any Unicode name (none overwrites another, a
249-byte name still exports), multi-lesson export from a workspace, and ``esergui analyze``
telling which input went to which files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from esergui.formats.exporting import EXPORT_FORMATS, export_lesson, export_workspace
from esergui.formats.files import ExportError
from esergui.formats.names import MAX_STEM_BYTES, output_stem, readable_stem
from esergui.formats.tables import utterances_frame
from esergui.lesson import AnalysisRun, Speaker, Utterance
from esergui.workspace import Workspace

LABELS = ("anger", "neutral")


def utts() -> list[Utterance]:
    return [
        Utterance(
            0.5,
            2.0,
            speaker="S1",
            role="teacher",
            role_confidence=0.93,
            emotion="neutral",
            confidence=0.8,
            probabilities={"anger": 0.2, "neutral": 0.8},
            id=7,
        ),
        Utterance(
            2.5,
            3.25,
            speaker="S2",
            role="student",
            role_confidence=0.7,
            emotion="anger",
            confidence=0.55,
            probabilities={"anger": 0.55, "neutral": 0.45},
            human_emotion="neutral",
            note="=cmd|'/C calc'!A0",
            codes=("question", "+praise"),
            reviewed=True,
            id=9,
        ),
        Utterance(4.0, 5.0, speaker="S2", role="student", note="@SUM(A1)", deleted=True, id=11),
    ]


def test_utterance_csv_columns_and_values(tmp_path: Path) -> None:
    res = export_lesson(tmp_path, "Class 7b / maths", utts(), 6.0, LABELS, [Speaker("S1", "teacher", "Mr Koch")])
    assert res.utterances_csv.name == "Class_7b_maths_utterances.csv"
    df = pd.read_csv(res.utterances_csv)
    for col in (
        "lesson",
        "utterance_id",
        "start_s",
        "end_s",
        "duration_s",
        "speaker",
        "role",
        "role_confidence",
        "emotion",
        "confidence",
        "p_anger",
        "p_neutral",
        "emotion_source",
        "role_source",
        "model_confidence",
        "note",
        "codes",
        "reviewed",
    ):
        assert col in df.columns, col
    assert len(df) == 2  # the deleted utterance is not exported
    assert df["utterance_id"].tolist() == [7, 9]
    assert df["speaker_name"].tolist() == ["Mr Koch", "S2"]
    assert df["emotion"].tolist() == ["neutral", "neutral"] and df["model_emotion"].tolist() == ["neutral", "anger"]
    assert df["emotion_source"].tolist() == ["model", "human"]
    # confidence is the model's probability of the label shown: p(neutral) for the human's "neutral"
    assert df["confidence"].tolist() == [0.8, 0.45] and df["model_confidence"].tolist() == [0.8, 0.55]
    assert df["p_anger"].tolist() == [0.2, 0.55] and df["duration_s"].tolist() == [1.5, 0.75]
    assert df["note"][1] == "'=cmd|'/C calc'!A0" and df["codes"][1] == "question;+praise"
    assert df["reviewed"].tolist() == [0, 1]
    summary = pd.read_csv(res.summary_csv)
    assert len(summary) == 1 and summary["lesson"][0] == "Class 7b / maths"
    assert summary["speech_s"][0] == pytest.approx(2.25) and summary["teacher_talk_s"][0] == pytest.approx(1.5)
    bins = pd.read_csv(res.bins_csv)
    assert len(bins) == 1 and bins["speech_s"][0] == pytest.approx(2.25)
    with pytest.raises(ExportError, match="unknown export format"):
        export_lesson(tmp_path, "x", utts(), 6.0, LABELS, formats=("docx",))


def test_human_label_the_model_lacks_has_no_confidence() -> None:
    u = Utterance(
        0.0,
        1.0,
        emotion="anger",
        confidence=0.9,
        probabilities={"anger": 0.9, "neutral": 0.1},
        human_emotion="curiosity",
    )
    df = utterances_frame([u], LABELS)
    assert pd.isna(df["confidence"][0]) and df["model_confidence"][0] == 0.9


def test_frame_without_model_outputs() -> None:
    df = utterances_frame([Utterance(0.0, 1.0), Utterance(1.5, 2.0)], lesson="bare")
    assert df["utterance_id"].tolist() == [1, 2]
    assert df["emotion"].isna().all() and df["role"].isna().all()
    assert not any(c.startswith("p_") for c in df.columns)


def test_output_stems_are_readable_and_unique() -> None:
    assert readable_stem("../../etc/passwd") == "etc_passwd" and readable_stem("...") == "lesson"
    assert readable_stem("Lesson 1: Übung") == "Lesson_1_Übung" and readable_stem("数学") == "数学"
    assert readable_stem("a\x00b\r\nc\u202ed") == "a_b_c_d" and readable_stem("-rf") == "rf"
    assert readable_stem("CON") == "CON_" and readable_stem("Ünit") == readable_stem("U\u0308nit")  # NFC
    taken: set[str] = set()
    stems = []
    for name in ["数学", "Ünit 1", "nit 1", "Unit 1", "unit_1", "Unit 1", "数学"]:
        stem = output_stem(name, taken)
        taken.add(stem)
        stems.append(stem)
    assert len({s.casefold() for s in stems}) == len(stems)  # unique even on case-insensitive disks
    assert stems[:4] == ["数学", "Ünit_1", "nit_1", "Unit_1"] and stems[4].startswith("unit_1-")
    long = "ü" * 124 + ".x"  # 250 bytes
    a, b = output_stem(long), output_stem("ü" * 124 + ".y")
    assert a != b and len(a.encode()) <= MAX_STEM_BYTES and a.startswith("üüü")


def test_long_and_unicode_names_export_without_overwriting(tmp_path: Path) -> None:
    names = ["数学", "物理", "Ünit 1", "nit 1", "Unit/1", "Unit:1", "x" * 245 + ".ogg"]
    taken: set[str] = set()
    results = [export_lesson(tmp_path, n, utts(), 6.0, LABELS, formats=EXPORT_FORMATS, taken=taken) for n in names]
    files = [p for r in results for p in r.files]
    assert len(files) == len(set(files)) == len(names) * 8
    assert sorted(tmp_path.iterdir()) == sorted(files)
    for name, r in zip(names, results):  # each file names its own lesson inside
        assert pd.read_csv(r.utterances_csv)["lesson"][0] == name
        assert all(len(p.name.encode()) < 255 for p in r.files)


def test_export_several_workspace_lessons(tmp_path: Path, emodb: Path) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        ids = []
        for k, name in enumerate(["03a01Fa.wav", "08a01Na.wav", "09a01Nb.wav"]):
            lesson = ws.add_lesson(emodb / "wav" / name, name="same name" if k else "first", duration_s=10.0)
            run = AnalysisRun(labels=LABELS, skipped={"speakers": "switched off"})
            ws.store_analysis(lesson.id, run, utts()[:2], [Speaker("S1", "teacher")])
            ids.append(lesson.id)
        ws.set_emotion([ws.utterances(ids[0])[0].id], "anger")
        results = export_workspace(ws, ids, tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    stems = [r.stem for r in results]
    assert stems[0] == "first" and stems[1] == "same_name" and stems[2].startswith("same_name-")
    assert all(f"{s}_utterances.csv" in names for s in stems)
    table = pd.read_csv(tmp_path / "out" / "lessons_summary.csv")
    assert table["lesson"].tolist() == ["first", "same name", "same name"]
    assert table["model"].isna().all() and (table["stages_skipped"] == "speakers").all()
    assert table["emotion_anger_pct"][0] > table["emotion_anger_pct"][1]
    first = pd.read_csv(results[0].utterances_csv)
    assert first["emotion_source"][0] == "human" and first["utterance_id"][0] > 0


def test_analyze_keeps_unicode_names_apart_and_says_where(tmp_path: Path, emodb: Path) -> None:
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed (bash packaging/setup.sh --dev installs it)")
    names = ["数学.ogg", "Ünit 1.ogg", "nit 1.ogg", "l" * 245 + ".ogg"]  # the last: a 249-byte name
    for k, name in enumerate(names):
        clip = emodb / "wav" / ["03a01Fa.wav", "08a01Na.wav", "09a01Nb.wav", "10a01Wa.wav"][k]
        subprocess.run(["sox", str(clip), str(tmp_path / name)], check=True)
    run = subprocess.run(
        [sys.executable, "-m", "esergui", "analyze", *names, "--out", "out", "--device", "cpu", "--export", "eaf"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 4 * 4, written
    assert all(len(name.encode()) <= 255 for name in written)
    for name in names:  # one line per input, naming its files
        line = next(x for x in run.stdout.splitlines() if x.startswith(name))
        stem = output_stem(Path(name).stem)
        assert f"{stem}_utterances.csv" in line and f"{stem}.eaf" in line
