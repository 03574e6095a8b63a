"""The app's File ▸ Lesson Report… and File ▸ Export ▸ Figure for a Paper…, on the real main
window showing the analysed two-speaker conversation: the files are written off the GUI thread
and read back."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.qt

from esergui.app.shell.reports import PaperFigureDialog, export_paper_figure, export_report, figure_ranges  # noqa: E402
from esergui.report import FigureSize  # noqa: E402
from tests.annotation_support import main_window, template_ws, win  # noqa: E402, F401 (fixtures)


def finished(qtbot, runner) -> list:
    results: list = []
    runner.succeeded.connect(results.append)
    runner.failed.connect(lambda reason, _details: results.append(reason))
    qtbot.waitUntil(lambda: bool(results) and not runner.running, timeout=60000)
    return results


def test_the_file_menu_offers_the_report_and_the_paper_figure(win):
    file_menu = [a.text() for a in win.menus["file"].actions()]
    export_menu = [a.text() for a in win.menus["export"].actions()]
    assert "Lesson &Report…" in file_menu
    assert "&Figure for a Paper…" in export_menu


def test_report_is_written_off_the_gui_thread(win, tmp_path, qtbot):
    out = tmp_path / "conversation report.pdf"
    runner = export_report(win, str(out))
    assert runner is not None and runner.running  # the window stays responsive meanwhile
    assert finished(qtbot, runner) == [out]
    exe = shutil.which("pdftotext")
    if exe:
        text = " ".join(subprocess.run([exe, str(out), "-"], capture_output=True, text=True, check=True).stdout.split())
        assert "Lesson report conversation" in text and "Talk time per role" in text
    assert f"Saved {out}" in win.statusBar().currentMessage()


def test_paper_figure_of_the_selected_utterances(win, tmp_path, qtbot):
    win.selection.select_rows([2, 3], None)
    ranges = figure_ranges(win)
    data = win.lesson_data
    assert ranges["Whole lesson"] == (0.0, data.duration_s)
    assert ranges["Selected utterances"] == (pytest.approx(float(data.start[2])), pytest.approx(float(data.end[3])))
    dialog = PaperFigureDialog(win, "conversation", ranges, win.settings)
    dialog.part.setCurrentIndex(dialog.part.count() - 1)
    dialog.width_mm.setValue(120)
    dialog.height_mm.setValue(50)
    options = dialog.options()
    assert options["size"] == FigureSize(pytest.approx(120 / 25.4), pytest.approx(50 / 25.4))
    assert (options["start_s"], options["end_s"]) == ranges["Selected utterances"]
    assert int(win.settings.value("figure/width_mm")) == 120
    out = tmp_path / "fig.svg"
    assert finished(qtbot, export_paper_figure(win, str(out), options)) == [out]
    assert "conversation: emotion by role" in out.read_text()
