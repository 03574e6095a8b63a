"""File > Export and File > Import Annotations in the real main window (offscreen): the menu offers
the researchers' formats, exports them for the current lesson as stored (human edits applied),
honours the spreadsheet CSV options, and an imported ELAN file becomes the lesson's human labels
on screen and in the Model vs Human list."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.qt

from PySide6.QtCore import QSettings  # noqa: E402

from esergui.app.shell.main import configure_app  # noqa: E402
from esergui.app.shell.window import MainWindow  # noqa: E402
from esergui.formats.exporting import export_lesson  # noqa: E402
from esergui.lesson import AnalysisRun, Speaker, Utterance  # noqa: E402
from esergui.workspace import Workspace  # noqa: E402

LABELS = ("anger", "happiness", "neutral")


def model_layer() -> list[Utterance]:
    return [
        Utterance(
            0.3,
            1.2,
            speaker="S1",
            role="teacher",
            emotion="neutral",
            confidence=0.8,
            probabilities={"anger": 0.1, "happiness": 0.1, "neutral": 0.8},
        ),
        Utterance(
            1.4,
            2.4,
            speaker="S2",
            role="student",
            emotion="anger",
            confidence=0.6,
            probabilities={"anger": 0.6, "happiness": 0.1, "neutral": 0.3},
        ),
    ]


@pytest.fixture()
def window(qapp, tmp_path: Path, emodb: Path):
    configure_app(qapp)
    with Workspace.open(tmp_path / "ws") as ws:
        lesson = ws.add_lesson(emodb / "wav" / "03a01Fa.wav", name="Ünit 1", duration_s=2.5)
        ws.store_analysis(
            lesson.id, AnalysisRun(labels=LABELS), model_layer(), [Speaker("S1", "teacher"), Speaker("S2", "student")]
        )
        lesson_id = int(lesson.id)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    assert win.open_workspace(tmp_path / "ws")
    win.lessons.open_lesson(lesson_id)
    yield win, lesson_id
    win.close()


def test_file_menu_exports_and_imports_researchers_formats(window, tmp_path: Path) -> None:
    win, lesson_id = window
    texts = [a.text() for a in win.menus["export"].actions()]
    for wanted in ("ELAN", "Praat", "RTTM", "Audacity", "JSON"):
        assert any(wanted in t for t in texts), texts
    files = win.exports.export_formats(
        ["eaf", "textgrid", "rttm", "audacity", "json"], str(tmp_path / "out"), [lesson_id]
    )
    assert sorted(p.name for p in files) == [
        "Ünit_1.TextGrid",
        "Ünit_1.eaf",
        "Ünit_1.json",
        "Ünit_1.rttm",
        "Ünit_1_labels.txt",
    ]

    win.actions_["csv_semicolon"].trigger()  # File > Export > CSV with Semicolons and Decimal Commas
    assert win.actions_["csv_semicolon"].isChecked() and win.exports.csv_options().semicolon
    csvs = win.exports.export_csv(str(tmp_path / "csv"), [lesson_id])
    assert ";" in csvs[0].read_text(encoding="utf-8").splitlines()[0]

    # another annotator's ELAN file: the second utterance is happiness, not anger
    theirs = [Utterance(u.start_s, u.end_s, speaker=u.speaker, role=u.role, emotion=u.emotion) for u in model_layer()]
    theirs[1].human_emotion = "happiness"
    eaf = export_lesson(tmp_path / "theirs", "theirs", theirs, 2.5, LABELS, formats=["eaf"]).files[0]
    report = win.exports.import_annotations(str(eaf))
    assert report is not None and report.paired == 2
    assert [u.human_emotion for u in win.workspace.utterances(lesson_id)] == ["neutral", "happiness"]
    data = win.lesson_data  # the window shows the imported labels
    assert data.lesson_id == lesson_id and [data.labels[k] for k in data.label] == ["neutral", "happiness"]
    assert [(d.human, d.model) for d in win.workspace.disagreements(lesson_id)] == [("happiness", "anger")]


def test_export_runs_off_the_gui_thread_and_a_failure_is_one_line(window, tmp_path: Path, monkeypatch) -> None:
    """The files are written on a worker thread (the window keeps painting); writing into a
    folder that is a file ends in the one-line "Export failed" dialog, nothing half-written."""
    import threading

    import esergui.app.shell.exports as exports

    win, lesson_id = window
    threads: list[str] = []
    real = exports.export_workspace

    def recording_thread(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "export_workspace", recording_thread)
    files = win.exports.export_formats(["eaf"], str(tmp_path / "out"), [lesson_id])
    assert [p.name for p in files] == ["Ünit_1.eaf"]
    assert threads and threads[0] != threading.main_thread().name

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    errors: list[tuple[str, str]] = []
    win.errors.errorShown.connect(lambda title, reason: errors.append((title, reason)))
    assert win.exports.export_csv(str(blocker / "csv"), [lesson_id]) == []
    assert errors and errors[-1][0] == "Export failed" and "\n" not in errors[-1][1], errors
    if win.errors.last_box is not None:
        win.errors.last_box.close()


def test_a_slow_file_job_shows_a_busy_dialog(window) -> None:
    """Past half a second a modal busy dialog says what is being done; it is gone afterwards."""
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QProgressDialog

    from esergui.app.shell.exports import run_off_gui_thread

    win, _ = window
    seen: list[str] = []

    def probe() -> None:
        seen.extend(d.labelText() for d in win.findChildren(QProgressDialog) if d.isVisible())

    timer = QTimer()
    timer.timeout.connect(probe)
    timer.start(100)
    assert run_off_gui_thread(win, "Export", lambda: (time.sleep(1.2), 7)[1], "Writing the files…") == 7
    timer.stop()
    assert "Writing the files…" in seen
    assert not [d for d in win.findChildren(QProgressDialog) if d.isVisible()]
