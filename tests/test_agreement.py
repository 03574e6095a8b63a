"""Inter-annotator agreement: kappa against hand-computed values, alignment by overlap, and
importing the other annotator from a workspace and from an exported CSV (Qt-free)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from esergui.agreement import (
    AgreementError,
    Annotated,
    align,
    cohen_kappa,
    compare,
    from_utterances,
    interpret_kappa,
    read_csv,
    read_other,
)
from esergui.formats.csvout import write_csv
from esergui.formats.tables import utterances_frame
from esergui.lesson import AnalysisRun, Speaker, Utterance
from esergui.workspace import Workspace

LABELS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")


def test_kappa_hand_computed_two_labels() -> None:
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    kappa, po, pe = cohen_kappa(a, b)
    # p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4
    assert (po, pe) == pytest.approx((0.7, 0.5))
    assert kappa == pytest.approx(0.4)
    assert interpret_kappa(kappa) == "fair"


def test_kappa_hand_computed_three_labels() -> None:
    a = ["anger", "anger", "neutral", "neutral", "sadness", "neutral"]
    b = ["anger", "neutral", "neutral", "neutral", "sadness", "sadness"]
    kappa, po, pe = cohen_kappa(a, b)
    # p_o = 4/6; marginals A (2, 3, 1), B (1, 3, 2): p_e = (2+9+2)/36 = 13/36; kappa = 11/23
    assert po == pytest.approx(4 / 6)
    assert pe == pytest.approx(13 / 36)
    assert kappa == pytest.approx(11 / 23)
    import sklearn.metrics as sklearn

    assert kappa == pytest.approx(sklearn.cohen_kappa_score(a, b))


def test_kappa_edge_cases() -> None:
    assert math.isnan(cohen_kappa([], [])[0])
    k, po, pe = cohen_kappa(["x"] * 4, ["x"] * 4)  # one label only: chance explains everything
    assert math.isnan(k) and po == 1.0 and pe == 1.0
    assert cohen_kappa(["a", "b"], ["b", "a"])[0] == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])


def _ann(a: float, b: float, emotion: str, role: str = "teacher") -> Annotated:
    return Annotated(a, b, emotion, role, human=frozenset({"emotion"}))


def test_align_pairs_one_to_one_by_overlap() -> None:
    ours = [_ann(0, 2, "anger"), _ann(3, 5, "neutral"), _ann(6, 7, "sadness"), _ann(20, 21, "fear")]
    theirs = [
        _ann(0.1, 2.2, "anger"),  # pairs with 0-2
        _ann(2.9, 4.0, "neutral"),
        _ann(4.0, 5.1, "boredom"),  # both overlap 3-5; the larger (4.0-5.1: 1.0 s) wins
        _ann(6.8, 9.0, "sadness"),  # overlaps 6-7 by only 0.2 s of the shorter 1 s: not a pair
    ]
    pairs, only_a, only_b = align(ours, theirs)
    assert [(p.a.start_s, p.b.start_s) for p in pairs] == [(0, 0.1), (3, 2.9)]
    # 2.9-4.0 overlaps 3-5 by 1.0 s, 4.0-5.1 by 1.0 s: ties go to the earlier of theirs
    assert [u.start_s for u in only_a] == [6, 20]
    assert sorted(u.start_s for u in only_b) == [4.0, 6.8]
    report = compare(ours, theirs)
    assert report.fields["emotion"].n == 2 and report.fields["emotion"].observed == 1.0
    assert report.disagreements == []


def _lesson(ws: Workspace, wav: Path, rttm: Path) -> int:
    lesson = ws.add_lesson(wav, name="conversation", duration_s=30.0)
    utts = []
    for line in rttm.read_text().splitlines():
        parts = line.split()
        start, dur, spk = float(parts[3]), float(parts[4]), parts[7]
        role = "teacher" if spk == "speaker90" else "student"
        utts.append(
            Utterance(
                start,
                start + dur,
                speaker="S1" if role == "teacher" else "S2",
                role=role,
                emotion="neutral",
                confidence=0.6,
                probabilities={"neutral": 0.6, "anger": 0.4},
            )
        )
    ws.store_analysis(lesson.id, AnalysisRun(labels=LABELS), utts, [Speaker("S1", "teacher"), Speaker("S2", "student")])
    return int(lesson.id)


def test_import_other_workspace_and_csv(tmp_path: Path, conversation: Path) -> None:
    wav, rttm = conversation / "sample.wav", conversation / "sample.rttm"
    with Workspace.open(tmp_path / "anna", user="anna") as wa, Workspace.open(tmp_path / "ben", user="ben") as wb:
        la, lb = _lesson(wa, wav, rttm), _lesson(wb, wav, rttm)
        ua, ub = wa.utterances(la), wb.utterances(lb)
        assert len(ua) == len(ub) >= 8
        # anna: anger on 0..3, sadness on 4; ben: anger on 0..1, happiness on 2, sadness on 4; roles differ on 5
        wa.set_emotion([u.id for u in ua[:4]], "anger")
        wa.set_emotion([ua[4].id], "sadness")
        wb.set_emotion([u.id for u in ub[:2]], "anger")
        wb.set_emotion([ub[2].id], "happiness")
        wb.set_emotion([ub[4].id], "sadness")
        wb.set_role([ub[5].id], "teacher" if ub[5].final_role == "student" else "student")
        wb.delete_utterances([ub[-1].id])  # ben deleted one: ours is unmatched
        sha = wa.lesson(la).audio_sha256
        csv = write_csv(
            utterances_frame(wb.utterances(lb), LABELS, "conversation", wb.speakers(lb)), tmp_path / "ben.csv"
        )
        ours = from_utterances(wa.utterances(la))

    from_ws = read_other(tmp_path / "ben", sha)
    from_csv = read_other(csv, sha, "conversation")
    assert len(from_ws) == len(from_csv) == len(ours) - 1
    assert [(round(x.start_s, 3), x.emotion, x.role, x.human) for x in from_ws] == [
        (round(x.start_s, 3), x.emotion, x.role, x.human) for x in from_csv
    ]

    for theirs in (from_ws, from_csv):
        report = compare(ours, theirs)
        assert len(report.pairs) == len(ours) - 1 and len(report.unmatched_a) == 1 and not report.unmatched_b
        emo = report.fields["emotion"]
        # pairs: 0,1 anger/anger; 2 anger/happiness; 3 anger/neutral; 4 sadness/sadness; rest neutral/neutral
        n = emo.n
        a = ["anger"] * 4 + ["sadness"] + ["neutral"] * (n - 5)
        b = ["anger", "anger", "happiness", "neutral", "sadness"] + ["neutral"] * (n - 5)
        assert emo.kappa == pytest.approx(cohen_kappa(a, b)[0])
        assert emo.confusion[("anger", "happiness")] == 1 and emo.confusion[("anger", "neutral")] == 1
        assert emo.both_human == 4  # utterances 0, 1, 2, 4 were set by hand by both
        assert [(d.field, d.a, d.b) for d in report.disagreements] == [
            ("emotion", "anger", "happiness"),
            ("emotion", "anger", "neutral"),
            ("role", ours[5].role, theirs[5].role),
        ]
        assert report.fields["role"].n == n and report.fields["role"].observed == pytest.approx((n - 1) / n)
        assert any("kappa" in line for line in report.summary_lines())


def test_bad_inputs_are_clear_errors(tmp_path: Path, conversation: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(AgreementError, match="not an utterances CSV"):
        read_csv(bad)
    with pytest.raises(AgreementError, match="no such file"):
        read_other(tmp_path / "missing.csv", "0" * 64)
    with Workspace.open(tmp_path / "empty"):
        pass
    with pytest.raises(AgreementError, match="no lesson with the same audio"):
        read_other(tmp_path / "empty", "0" * 64)
