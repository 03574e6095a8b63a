"""Issue 18 in the app: a lesson whose stored rows are damaged (broken JSON in an utterance
cell, a lesson row that no longer reads) does not silently fail to open; the real main window
shows a "Cannot open lesson" dialog naming the lesson and what is damaged, and stays usable. A
damaged lesson row met while refreshing the library is said once, in a dialog, not raised."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.qt

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from esergui.app.shell.main import configure_app  # noqa: E402
from esergui.app.shell.window import MainWindow  # noqa: E402
from esergui.lesson import AnalysisRun, Speaker, stored_id  # noqa: E402
from esergui.workspace import Workspace  # noqa: E402
from tests.app_support import wait_until  # noqa: E402
from tests.workspace_support import LABELS, corrupt, utterances  # noqa: E402


@pytest.fixture
def studio(qapp, tmp_path: Path, emodb: Path):
    """The main window on a workspace of two lessons of real EmoDB speech (stored results, so
    no model runs), the healthy one shown with its audio; yields (window, healthy, damaged)."""
    configure_app(qapp)
    folder = tmp_path / "ws"
    with Workspace.open(folder) as ws:
        ids = []
        for wav, name in (("03a01Fa.wav", "Monday maths"), ("03a01Nc.wav", "Tuesday history")):
            lesson = ws.add_lesson(emodb / "wav" / wav, name=name, duration_s=12.0)
            speakers = [Speaker("S1", "teacher"), Speaker("S2", "student")]
            ws.store_analysis(stored_id(lesson.id), AnalysisRun(labels=LABELS), utterances(4), speakers)
            ids.append(stored_id(lesson.id))
    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win.resize(1200, 800)
    win.show()
    assert win.open_workspace(folder)
    healthy, damaged = ids
    win.open_lesson(healthy)
    wait_until(lambda: win.lesson_data.source is not None)
    yield win, healthy, damaged
    win.close()


def _take_dialog(win: MainWindow, errors: list[tuple[str, str]]) -> tuple[str, str]:
    """The one error dialog shown: its title and text (checked on the real box), then closed."""
    assert len(errors) == 1, errors
    box = win.errors.last_box
    assert box is not None and box.isVisible() and box.icon() == QMessageBox.Icon.Warning
    title, text = box.windowTitle(), box.text()
    assert (title, text) == errors[0]
    box.done(QMessageBox.StandardButton.Ok)
    QApplication.processEvents()
    return title, text


def _still_usable(win: MainWindow, healthy: int) -> None:
    """The healthy lesson opens and shows its utterances, audio attached."""
    win.open_lesson(healthy)
    wait_until(lambda: win.lesson_data.lesson_id == healthy and win.lesson_data.source is not None)
    assert win.current_id == healthy and len(win.lesson_data) == 4
    assert win.lesson_data.name == "Monday maths"


def _open_damaged(win: MainWindow, damaged: int, *sql: str) -> tuple[str, str, list[tuple[str, str]]]:
    """Damage the workspace with ``sql``, open lesson ``damaged``: the dialog's title and text,
    and the list that collects every later error shown."""
    corrupt(win.require_workspace().folder, *sql)
    errors: list[tuple[str, str]] = []
    win.errors.errorShown.connect(lambda title, reason: errors.append((title, reason)))
    win.open_lesson(damaged)
    wait_until(lambda: errors)
    return (*_take_dialog(win, errors), errors)


def test_damaged_utterance_json_opens_a_dialog(studio) -> None:
    win, healthy, damaged = studio
    broken = f"UPDATE utterances SET probabilities = '{{\"anger\": 0.2,' WHERE lesson_id = {damaged}"
    title, text, _ = _open_damaged(win, damaged, broken)
    assert title == "Cannot open lesson"
    assert "lesson 'Tuesday history'" in text and "emotion probabilities" in text and "JSON is broken" in text
    assert "\n" not in text
    assert win.lesson_data.lesson_id == win.current_id == healthy  # the shown lesson is untouched
    assert win.lesson_data.source is not None and len(win.lesson_data) == 4
    _still_usable(win, healthy)


def test_damaged_lesson_row_opens_a_dialog(studio) -> None:
    win, healthy, damaged = studio
    bad_status = f"UPDATE lessons SET status = 'analysed?' WHERE id = {damaged}"
    title, text, errors = _open_damaged(win, damaged, "PRAGMA ignore_check_constraints = ON", bad_status)
    assert title == "Cannot open lesson"
    assert "lesson 'Tuesday history'" in text and "is damaged" in text and "unknown status" in text
    assert "\n" not in text
    assert win.lesson_data.lesson_id == healthy
    # refreshing the library (after every queue change) says it once, keeping the listed lessons
    win.refresh_library()
    win.refresh_library()
    title, text = _take_dialog(win, errors[1:])
    assert title == "Cannot list the lessons" and "is damaged" in text and "unknown status" in text
    assert [int(lesson.id) for lesson in win.library.model.lessons] == [healthy, damaged]
    corrupt(win.require_workspace().folder, f"UPDATE lessons SET status = 'analysed' WHERE id = {damaged}")
    win.refresh_library()
    assert len(errors) == 2
    _still_usable(win, healthy)
