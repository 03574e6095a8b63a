"""Exports: CSV columns and spreadsheet-formula neutralisation, summary/bins CSVs, multi-lesson
export from a workspace, ELAN .eaf and Praat TextGrid structure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from esergui.export import (
    ExportError, export_lesson, export_workspace, file_stem, neutralise, utterances_frame, write_csv,
)
from esergui.lesson import AnalysisRun, Speaker, Utterance
from esergui.workspace import Workspace

LABELS = ("anger", "neutral")


def utts() -> list[Utterance]:
    return [
        Utterance(0.5, 2.0, speaker="S1", role="teacher", role_confidence=0.93, emotion="neutral", confidence=0.8,
                  probabilities={"anger": 0.2, "neutral": 0.8}, id=7),
        Utterance(2.5, 3.25, speaker="S2", role="student", role_confidence=0.7, emotion="anger", confidence=0.55,
                  probabilities={"anger": 0.55, "neutral": 0.45}, human_emotion="neutral", note="=cmd|'/C calc'!A0",
                  codes=("question", "+praise"), reviewed=True, id=9),
        Utterance(4.0, 5.0, speaker="S2", role="student", note="@SUM(A1)", deleted=True, id=11),
    ]


def test_neutralise_rules() -> None:
    assert neutralise("=1+2") == "'=1+2"
    assert neutralise("+cmd") == "'+cmd" and neutralise("-2+3") == "'-2+3" and neutralise("@x") == "'@x"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("-3.5") == "-3.5" and neutralise("+1e-3") == "+1e-3"  # plain numbers stay
    assert neutralise("fine = ok") == "fine = ok" and neutralise(-3.5) == -3.5 and neutralise(None) is None


def test_csv_is_spreadsheet_safe_and_numbers_stay_numeric(tmp_path: Path) -> None:
    frame = pd.DataFrame({"value": [-3.5, 2.0], "text": ["=HYPERLINK(\"http://x\")", "-12"], "=col": [1, 2]})
    path = write_csv(frame, tmp_path / "x.csv")
    back = pd.read_csv(path)
    assert back["value"].tolist() == [-3.5, 2.0] and back["value"].dtype.kind == "f"
    assert back["text"].tolist() == ["'=HYPERLINK(\"http://x\")", -12] or back["text"].tolist() == ["'=HYPERLINK(\"http://x\")", "-12"]
    assert list(back.columns) == ["value", "text", "'=col"]
    raw = path.read_text()
    assert "\n=" not in raw and ",=" not in raw and ",@" not in raw and ",+" not in raw


def test_utterance_csv_columns_and_values(tmp_path: Path) -> None:
    res = export_lesson(tmp_path, "Class 7b / maths", utts(), 6.0, LABELS, [Speaker("S1", "teacher", "Mr Koch")],
                        formats=("eaf", "textgrid"))
    assert res.utterances_csv.name == "Class_7b_maths_utterances.csv"
    df = pd.read_csv(res.utterances_csv)
    for col in ("lesson", "utterance_id", "start_s", "end_s", "duration_s", "speaker", "role", "role_confidence",
                "emotion", "confidence", "p_anger", "p_neutral", "emotion_source", "role_source", "note", "codes", "reviewed"):
        assert col in df.columns, col
    assert len(df) == 2  # the deleted utterance is not exported
    assert df["utterance_id"].tolist() == [7, 9]
    assert df["speaker_name"].tolist() == ["Mr Koch", "S2"]
    assert df["emotion"].tolist() == ["neutral", "neutral"] and df["model_emotion"].tolist() == ["neutral", "anger"]
    assert df["emotion_source"].tolist() == ["model", "human"]
    assert df["p_anger"].tolist() == [0.2, 0.55] and df["duration_s"].tolist() == [1.5, 0.75]
    assert df["note"][1] == "'=cmd|'/C calc'!A0" and df["codes"][1] == "question;+praise"
    assert df["reviewed"].tolist() == [0, 1]
    summary = pd.read_csv(res.summary_csv)
    assert len(summary) == 1 and summary["lesson"][0] == "Class 7b / maths"
    assert summary["speech_s"][0] == pytest.approx(2.25) and summary["teacher_talk_s"][0] == pytest.approx(1.5)
    bins = pd.read_csv(res.bins_csv)
    assert len(bins) == 1 and bins["speech_s"][0] == pytest.approx(2.25)

    eaf, grid = res.extra
    root = ET.parse(eaf).getroot()
    tiers = {t.get("TIER_ID"): t for t in root.iter("TIER")}
    assert set(tiers) == {"S1", "S2"} and tiers["S1"].get("PARTICIPANT") == "Mr Koch"
    slots = {s.get("TIME_SLOT_ID"): int(s.get("TIME_VALUE")) for s in root.iter("TIME_SLOT")}
    ann = tiers["S2"].find("ANNOTATION/ALIGNABLE_ANNOTATION")
    assert (slots[ann.get("TIME_SLOT_REF1")], slots[ann.get("TIME_SLOT_REF2")]) == (2500, 3250)
    assert ann.findtext("ANNOTATION_VALUE") == "neutral"

    text = grid.read_text()
    assert text.startswith('File type = "ooTextFile"') and "size = 2" in text
    # tier S2: [0, 2.5) empty, [2.5, 3.25) neutral, [3.25, 6) empty: contiguous as Praat requires
    s2 = text.split('name = "S2"')[1]
    assert "intervals: size = 3" in s2 and 'text = "neutral"' in s2
    with pytest.raises(ExportError, match="unknown export format"):
        export_lesson(tmp_path, "x", utts(), 6.0, LABELS, formats=("docx",))


def test_frame_without_model_outputs() -> None:
    df = utterances_frame([Utterance(0.0, 1.0), Utterance(1.5, 2.0)], lesson="bare")
    assert df["utterance_id"].tolist() == [1, 2]
    assert df["emotion"].isna().all() and df["role"].isna().all()
    assert not any(c.startswith("p_") for c in df.columns)


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
    assert "first_utterances.csv" in names and "same_name_utterances.csv" in names and f"same_name_{ids[2]}_utterances.csv" in names
    table = pd.read_csv(tmp_path / "out" / "lessons_summary.csv")
    assert table["lesson"].tolist() == ["first", "same name", "same name"]
    assert table["model"].isna().all() and (table["stages_skipped"] == "speakers").all()
    assert table["emotion_anger_pct"][0] > table["emotion_anger_pct"][1]
    first = pd.read_csv(results[0].utterances_csv)
    assert first["emotion_source"][0] == "human" and first["utterance_id"][0] > 0


def test_file_stem() -> None:
    assert file_stem("../../etc/passwd") == "etc_passwd" and file_stem("...") == "lesson"
    assert file_stem("Lesson 1: Übung") == "Lesson_1_bung"
