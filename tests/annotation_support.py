"""Shared set-up of the annotation tests: a workspace holding the real two-speaker conversation
(``conversation/sample.wav``) analysed into utterances from its reference RTTM, with model
labels that vary in emotion and confidence, and the real main window opened on it."""

from __future__ import annotations

import shutil
from pathlib import Path

from esergui.lesson import AnalysisRun, Speaker, Utterance
from esergui.workspace import Workspace

LABELS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")
CONFIDENCES = (0.9, 0.35, 0.8, 0.45, 0.7, 0.3, 0.85)


def probs(label: str, p: float) -> dict[str, float]:
    rest = (1 - p) / (len(LABELS) - 1)
    return {k: (p if k == label else rest) for k in LABELS}


def model_output(rttm: Path, emotion_shift: int = 0) -> list[Utterance]:
    """One utterance per RTTM turn: speaker90 is the teacher (S1), speaker91 a student (S2);
    emotions cycle through the labels (shifted by ``emotion_shift``), confidences vary."""
    out = []
    for i, line in enumerate(rttm.read_text().splitlines()):
        parts = line.split()
        start, dur, spk = float(parts[3]), float(parts[4]), parts[7]
        teacher = spk == "speaker90"
        label = LABELS[(i + emotion_shift) % len(LABELS)]
        conf = CONFIDENCES[i % len(CONFIDENCES)]
        out.append(
            Utterance(
                round(start, 3),
                round(start + dur, 3),
                speaker="S1" if teacher else "S2",
                role="teacher" if teacher else "student",
                role_confidence=0.9,
                emotion=label,
                confidence=conf,
                probabilities=probs(label, conf),
            )
        )
    return out


def add_conversation(ws: Workspace, conversation: Path, name: str = "conversation") -> int:
    """Add and 'analyse' the conversation; its 16 kHz cache is the file itself (no decoding)."""
    wav = conversation / "sample.wav"
    lesson = ws.add_lesson(wav, name=name, duration_s=30.0)
    ws.store_analysis(
        lesson.id,
        AnalysisRun(labels=LABELS, model_name="test"),
        model_output(conversation / "sample.rttm"),
        [Speaker("S1", "teacher"), Speaker("S2", "student")],
    )
    cache = ws.cache_file(ws.lesson(lesson.id))
    if not cache.exists():
        shutil.copyfile(wav, cache)
    return int(lesson.id)


# ----------------------------------------------------------------------------- window fixtures
import pytest  # noqa: E402


def no_audio(**kw):
    raise RuntimeError("no audio output in tests")


@pytest.fixture(scope="module")
def template_ws(tmp_path_factory: pytest.TempPathFactory, conversation: Path) -> tuple[Path, int]:
    """A workspace folder with the analysed conversation, built once per module (copied per test)."""
    folder = tmp_path_factory.mktemp("template") / "ws"
    with Workspace.open(folder) as ws:
        lid = add_conversation(ws, conversation)
    return folder, lid


@pytest.fixture(scope="module")
def main_window(qapp, tmp_path_factory: pytest.TempPathFactory):
    """One real main window per test module (building one takes seconds); tests open their own
    copy of the workspace in it."""
    from PySide6.QtCore import QSettings

    from esergui.app.shell.window import MainWindow

    settings = QSettings(str(tmp_path_factory.mktemp("settings") / "app.ini"), QSettings.Format.IniFormat)
    settings.setValue("annotation/annotator", "anna")
    w = MainWindow(settings, stream_factory=no_audio)
    w.show()
    yield w
    w.close()


@pytest.fixture()
def win(main_window, template_ws, tmp_path: Path, qtbot):
    """The main window showing a fresh copy of the analysed conversation (``win.lid``), with
    the keyboard focus in the utterance table."""
    folder, lid = template_ws
    shutil.copytree(folder, tmp_path / "ws")
    w = main_window
    assert w.open_workspace(tmp_path / "ws")
    w.open_lesson(lid)
    qtbot.waitUntil(lambda: len(w.lesson_data) == 10 and w.lesson_data.source is not None, timeout=30000)
    w.activateWindow()
    w.table.view.setFocus()
    qtbot.waitUntil(lambda: w.table.view.hasFocus(), timeout=30000)
    w.lid = lid
    yield w
    w.close_workspace()
