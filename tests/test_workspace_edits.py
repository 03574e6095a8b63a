"""Every human edit of the workspace store, its undo path and edit log, and re-analysis that
keeps every human edit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from esergui.errors import WorkspaceError
from esergui.lesson import AnalysisRun, LessonStatus, Speaker, Utterance
from esergui.workspace import Workspace

LABELS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")


def probs(label: str, p: float = 0.7) -> dict[str, float]:
    rest = (1 - p) / (len(LABELS) - 1)
    return {k: (p if k == label else rest) for k in LABELS}


def model_output(
    shift: float = 0.0, teacher: str = "S1", student: str = "S2", emotion: str = "neutral"
) -> list[Utterance]:
    """Ten utterances: even ones the teacher's, odd ones a student's (4 s apart, 3 s long)."""
    out = []
    for i in range(10):
        spk, role = (teacher, "teacher") if i % 2 == 0 else (student, "student")
        out.append(
            Utterance(
                i * 4.0 + shift,
                i * 4.0 + 3.0 + shift,
                speaker=spk,
                role=role,
                role_confidence=0.9,
                emotion=emotion,
                confidence=0.7,
                probabilities=probs(emotion),
            )
        )
    return out


@pytest.fixture()
def ws(tmp_path: Path, emodb: Path):
    with Workspace.open(tmp_path / "ws", user="anna") as workspace:
        yield workspace


@pytest.fixture()
def lesson(ws: Workspace, emodb: Path):
    lesson = ws.add_lesson(emodb / "wav" / "03a01Fa.wav", name="lesson 1", duration_s=45.0)
    report = ws.store_analysis(
        lesson.id, AnalysisRun(labels=LABELS), model_output(), [Speaker("S1", "teacher"), Speaker("S2", "student")]
    )
    assert report.utterances == 10 and report.kept_human == 0
    return ws.lesson(lesson.id)


def test_stored_analysis_reads_back(ws: Workspace, lesson) -> None:
    utts = ws.utterances(lesson.id)
    assert [u.start_s for u in utts] == [i * 4.0 for i in range(10)]
    assert utts[1].speaker == "S2" and utts[1].role == "student" and utts[1].final_role == "student"
    assert utts[0].probabilities == pytest.approx(probs("neutral"))
    assert (utts[0].emotion_source, utts[0].role_source) == ("model", "model")
    assert {s.label: s.role for s in ws.speakers(lesson.id)} == {"S1": "teacher", "S2": "student"}
    assert lesson.status is LessonStatus.ANALYSED and ws.labels(lesson.id) == LABELS


def test_label_edits_many_at_once_and_undo(ws: Workspace, lesson) -> None:
    ids = [u.id for u in ws.utterances(lesson.id)][:3]
    ws.set_emotion(ids, "anger")
    got = ws.utterances(lesson.id)
    assert [u.final_emotion for u in got[:4]] == ["anger"] * 3 + ["neutral"]
    assert got[0].emotion_source == "human" and got[0].emotion == "neutral"  # model layer kept
    assert (got[0].edited_by, bool(got[0].edited_at)) == ("anna", True)
    assert ws.lesson(lesson.id).status is LessonStatus.EDITED
    [edit] = ws.edits(lesson.id)
    assert (edit.action, edit.user, edit.utterance_ids) == ("set_emotion", "anna", tuple(ids))
    assert edit.before == {str(i): {"human_emotion": None} for i in ids}
    # undo = write the old values back
    ws.update_human({int(k): v for k, v in edit.before.items()}, action="undo")
    assert [u.emotion_source for u in ws.utterances(lesson.id)[:3]] == ["model"] * 3

    ws.set_role(ids[:1], "student")
    u0 = ws.utterance(ids[0])
    assert (u0.final_role, u0.role_source, u0.role) == ("student", "human", "teacher")
    ws.set_note(ids[:2], "=HYPERLINK(evil)")
    ws.set_codes(ids[:2], ["question", "lecture"])
    ws.set_reviewed(ids, True)
    u1 = ws.utterance(ids[1])
    assert (u1.note, u1.codes, u1.reviewed) == ("=HYPERLINK(evil)", ("question", "lecture"), True)
    assert ws.review_progress(lesson.id) == (3, 10)
    assert [e.action for e in ws.edits(lesson.id)] == ["set_emotion", "undo", "set_role", "note", "codes", "reviewed"]


def test_speaker_edits(ws: Workspace, lesson) -> None:
    utts = ws.utterances(lesson.id)
    student_utt = utts[1]
    # assign a student's utterance to the teacher: the role follows the speaker, as a human decision
    ws.set_speaker([student_utt.id], "S1")
    u = ws.utterance(student_utt.id)
    assert (u.final_speaker, u.final_role, u.role_source) == ("S1", "teacher", "human")
    with pytest.raises(WorkspaceError, match="no speaker"):
        ws.set_speaker([student_utt.id], "S7")
    # a speaker's role set by a person applies to all its utterances
    before = next(s for s in ws.speakers(lesson.id) if s.label == "S2")
    ws.set_speaker_role(lesson.id, "S2", "teacher")
    assert {u.final_role for u in ws.utterances(lesson.id)} == {"teacher"}
    assert ws.utterances(lesson.id)[3].role_source == "human"
    ws.restore_speaker(before)
    assert ws.utterances(lesson.id)[3].final_role == "student"
    ws.rename_speaker(lesson.id, "S2", "Maria")
    assert next(s for s in ws.speakers(lesson.id) if s.label == "S2").name == "Maria"
    extra = ws.add_speaker(lesson.id, "visitor", role="student")
    assert extra.label == "H1" and extra.human_edited
    # merge S2 into S1 and undo it
    merge = ws.merge_speakers(lesson.id, "S1", "S2")
    assert {u.final_speaker for u in ws.utterances(lesson.id)} == {"S1"}
    assert [s.label for s in ws.speakers(lesson.id)] == ["S1", "H1"]
    ws.undo_merge_speakers(merge)
    assert [u.final_speaker for u in ws.utterances(lesson.id)][:4] == ["S1", "S1", "S1", "S2"]
    assert next(s for s in ws.speakers(lesson.id) if s.label == "S2").display_name == "Maria"
    with pytest.raises(WorkspaceError, match="into itself"):
        ws.merge_speakers(lesson.id, "S1", "S1")
    actions = [e.action for e in ws.edits(lesson.id)]
    assert actions == [
        "set_speaker",
        "speaker_role",
        "restore_speaker",
        "rename_speaker",
        "add_speaker",
        "merge_speakers",
        "undo_merge_speakers",
    ]


def test_boundary_edits_and_undo(ws: Workspace, lesson) -> None:
    utts = ws.utterances(lesson.id)
    target = utts[2]  # 8.0-11.0
    ws.set_emotion([target.id], "fear")
    a, b = ws.split_utterance(target.id, 9.5)
    assert a == target.id
    first, second = ws.utterance(a), ws.utterance(b)
    assert (first.start_s, first.end_s, second.start_s, second.end_s) == (8.0, 9.5, 9.5, 11.0)
    assert first.final_emotion == second.final_emotion == "fear" and second.boundary_source == "human"
    with pytest.raises(WorkspaceError, match="not inside"):
        ws.split_utterance(a, 12.0)
    # undo the split: restore the snapshot, remove the new part
    ws.restore_utterances(lesson.id, [target], remove_ids=[b])
    restored = ws.utterance(target.id)
    assert (restored.start_s, restored.end_s, restored.boundary_source) == (8.0, 11.0, "model")
    assert len(ws.utterances(lesson.id)) == 10

    # merge adjacent; a gap with another utterance between is refused
    merged = ws.merge_utterances([utts[3].id, utts[4].id])
    m = ws.utterance(merged)
    assert (m.start_s, m.end_s, m.boundary_source) == (12.0, 19.0, "human")
    with pytest.raises(WorkspaceError, match=r"utterance at 4\.00–7\.00 s starts inside the selection"):
        ws.merge_utterances([utts[0].id, utts[5].id])
    assert len(ws.utterances(lesson.id)) == 9

    ws.set_boundaries(utts[0].id, 0.5, 2.5)
    assert (ws.utterance(utts[0].id).start_s, ws.utterance(utts[0].id).end_s) == (0.5, 2.5)
    with pytest.raises(WorkspaceError, match="cannot end after the lesson"):
        ws.set_boundaries(utts[0].id, 0.5, 99.0)
    with pytest.raises(WorkspaceError, match="start at or after 0"):
        ws.set_boundaries(utts[0].id, 2.0, 1.0)

    new = ws.create_utterance(lesson.id, 40.0, 41.5, speaker="S2", emotion="happiness", note="missed by VAD")
    n = ws.utterance(new)
    assert (n.final_speaker, n.final_role, n.final_emotion, n.boundary_source) == (
        "S2",
        "student",
        "happiness",
        "human",
    )
    ws.delete_utterances([new, utts[9].id])
    assert new not in [u.id for u in ws.utterances(lesson.id)]
    assert {u.id for u in ws.utterances(lesson.id, include_deleted=True) if u.deleted} == {new, utts[9].id}
    ws.undelete_utterances([new])
    assert new in [u.id for u in ws.utterances(lesson.id)]
    assert [e.action for e in ws.edits(lesson.id)] == [
        "set_emotion",
        "split",
        "restore",
        "merge",
        "boundaries",
        "create",
        "delete",
        "undelete",
    ]


def test_edits_and_undo_keep_the_run_that_produced_the_model_layer(ws: Workspace, lesson) -> None:
    run = ws.latest_run(lesson.id)
    utts = ws.utterances(lesson.id)
    assert run is not None and {u.run_id for u in utts} == {run.id}
    a, b = ws.split_utterance(utts[2].id, 9.5)
    assert ws.utterance(a).run_id == ws.utterance(b).run_id == run.id
    ws.restore_utterances(lesson.id, [utts[2]], remove_ids=[b])
    merged = ws.merge_utterances([utts[3].id, utts[4].id])
    assert ws.utterance(merged).run_id == run.id
    # undo of the merge re-inserts the deleted part: its provenance comes back with it
    ws.restore_utterances(lesson.id, [utts[3], utts[4]])
    assert {u.run_id for u in ws.utterances(lesson.id)} == {run.id}
    created = ws.create_utterance(lesson.id, 40.0, 41.5, speaker="S2")
    assert ws.utterance(created).run_id is None


def test_reanalysis_keeps_every_human_edit(ws: Workspace, lesson) -> None:
    utts = ws.utterances(lesson.id)
    ws.set_emotion([utts[0].id], "anger")  # label edit, model boundaries
    ws.set_boundaries(utts[2].id, 7.5, 11.5)  # moved edges
    ws.delete_utterances([utts[4].id])  # 16-19 deleted
    ws.set_note([utts[6].id], "asks a question")
    ws.set_reviewed([utts[8].id])
    ws.rename_speaker(lesson.id, "S1", "Mr Koch")
    ws.set_speaker_role(lesson.id, "S2", "student")
    extra = ws.create_utterance(lesson.id, 42.0, 43.0, role="student")

    # a new model: shifted boundaries, speaker labels swapped, emotions all "sadness"
    new = model_output(shift=0.3, teacher="S2", student="S1", emotion="sadness")
    report = ws.store_analysis(
        lesson.id,
        AnalysisRun(labels=LABELS, model_name="v2"),
        new,
        [Speaker("S2", "teacher"), Speaker("S1", "student")],
    )
    after = ws.utterances(lesson.id)
    by_start = {u.start_s: u for u in after}
    assert report.kept_human == 6
    # 1. the human emotion stays; the model layer is refreshed from the new run
    u0 = by_start[0.0]
    assert (u0.final_emotion, u0.emotion_source, u0.emotion) == ("anger", "human", "sadness")
    # 2. moved boundaries stay
    assert by_start[7.5].end_s == 11.5 and by_start[7.5].boundary_source == "human"
    # 3. the deleted utterance stays deleted: nothing new covers 16-19 s
    assert not any(u.start_s < 19.0 and u.end_s > 16.0 for u in after)
    # 4. note, reviewed, created utterance
    assert by_start[24.0].note == "asks a question" and by_start[32.0].reviewed
    assert ws.utterance(extra).final_role == "student"
    # 5. unedited utterances were replaced by the new model's (shifted by 0.3 s)
    assert {4.3, 12.3, 20.3, 28.3, 36.3} <= set(by_start)
    assert all(by_start[s].emotion == "sadness" for s in (4.3, 12.3))
    # 6. the speakers were mapped by talk time: the renamed teacher keeps its name
    names = {s.label: s for s in ws.speakers(lesson.id)}
    assert report.speakers == {"S2": "S1", "S1": "S2"}
    assert names["S1"].name == "Mr Koch" and names["S1"].role == "teacher"
    assert by_start[4.3].final_speaker == "S2" and by_start[4.3].final_role == "student"
    # 7. the comparison of the new model with the human labels
    assert [(d.field, d.human, d.model) for d in report.disagreements] == [("emotion", "anger", "sadness")]
    assert ws.disagreements(lesson.id) == report.disagreements
    assert ws.lesson(lesson.id).status is LessonStatus.EDITED
    assert [r.model_name for r in ws.runs(lesson.id)] == [None, "v2"]


def test_reanalysis_keeps_a_speaker_merge(ws: Workspace, lesson) -> None:
    ws.merge_speakers(lesson.id, "S1", "S2")
    report = ws.store_analysis(lesson.id, AnalysisRun(labels=LABELS), model_output(shift=0.1), [])
    assert report.speakers == {"S1": "S1", "S2": "S1"}
    assert {u.final_speaker for u in ws.utterances(lesson.id)} == {"S1"}


def test_reanalysis_without_edits_splits_new_voices(ws: Workspace, lesson) -> None:
    # the old model lumped two voices into S1; a new model separates them: both survive
    new = model_output()
    new = [dataclasses.replace(u, speaker="S3") if i in (2, 6) else u for i, u in enumerate(new)]
    report = ws.store_analysis(lesson.id, AnalysisRun(labels=LABELS), new, [])
    assert sorted({u.final_speaker for u in ws.utterances(lesson.id)}) == ["S1", "S2", "S3"]
    assert report.kept_human == 0 and report.replaced == 10
    assert ws.lesson(lesson.id).status is LessonStatus.ANALYSED
