"""File ▸ Lesson Report… and File ▸ Export ▸ Figure for a Paper…: the current lesson through
the Qt-free :mod:`esergui.report`, written off the GUI thread (a :class:`TaskRunner`); the
status bar says when the file is saved, a failure gets the one-line error dialog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from esergui.app.common.workers import TaskRunner, one_line
from esergui.errors import USER_ERRORS
from esergui.report import FigureSize, ReportLesson, figure_export, from_workspace, lesson_report
from esergui.report.paper import MM_PER_IN
from esergui.report.wording import clock

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow

REPORT_TYPES = {"PDF document (*.pdf)": ".pdf", "PNG image (*.png)": ".png"}
FIGURE_TYPES = {"PDF (*.pdf)": ".pdf", "SVG drawing (*.svg)": ".svg", "PNG image (*.png)": ".png"}


def _file_stem(win: MainWindow) -> str:
    return (win.lesson_data.name or "lesson").replace(" ", "_")


def _save_path(win: MainWindow, title: str, name: str, types: Mapping[str, str]) -> str | None:
    """Ask where to save; a name typed without a known suffix gets the chosen type's."""
    start = Path(str(win.settings.value("export/dir", ""))) / name
    path, chosen = QFileDialog.getSaveFileName(win, title, str(start), ";;".join(types))
    if not path:
        return None
    if Path(path).suffix.lower() not in types.values():
        path += types.get(chosen, next(iter(types.values())))
    win.settings.setValue("export/dir", str(Path(path).parent))
    return path


def _current_lesson(win: MainWindow) -> ReportLesson | None:
    if win.workspace is None or win.current_id is None:
        win.statusBar().showMessage("Open a lesson first.", 5000)
        return None
    try:
        return from_workspace(win.workspace, win.current_id)
    except USER_ERRORS as exc:
        win.errors.error("Cannot read the lesson", one_line(exc))
        return None


def _write(win: MainWindow, what: str, write: Callable[[], Path]) -> TaskRunner:
    runner = TaskRunner(lambda _progress, _cancel, _partial: write(), win)
    runner.succeeded.connect(lambda out: win.statusBar().showMessage(f"Saved {out}", 10000))
    runner.failed.connect(lambda reason, _details: win.errors.error(f"{what} failed", reason))
    win.statusBar().showMessage(f"Writing the {what.lower()}…")
    runner.start()
    return runner


def export_report(win: MainWindow, path: str | None = None) -> TaskRunner | None:
    """The current lesson's one-page report (PDF or PNG); returns the running writer."""
    lesson = _current_lesson(win)
    if lesson is None:
        return None
    path = path or _save_path(win, "Lesson report", f"{_file_stem(win)}_report.pdf", REPORT_TYPES)
    if not path:
        return None
    return _write(win, "Lesson report", lambda: lesson_report(lesson, None, path))


class PaperFigureDialog(QDialog):
    """Options of a figure for a paper: which part of the lesson, size in millimetres,
    resolution, title and lanes (remembered in the settings)."""

    def __init__(self, parent: QWidget, name: str, ranges: Mapping[str, tuple[float, float]], settings: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle("Figure for a paper")
        self.settings = settings
        form = QFormLayout(self)
        self.part = QComboBox()
        for label, (a, b) in ranges.items():
            self.part.addItem(f"{label} ({clock(a)}-{clock(b)})", (a, b))
        self.width_mm, self.height_mm, self.dpi = QSpinBox(), QSpinBox(), QSpinBox()
        for box, low, high, key, default, suffix in (
            (self.width_mm, 20, 500, "width_mm", 180, " mm"),
            (self.height_mm, 20, 500, "height_mm", 65, " mm"),
            (self.dpi, 72, 1200, "dpi", 300, " dpi"),
        ):
            box.setRange(low, high)
            box.setSuffix(suffix)
            box.setValue(int(settings.value(f"figure/{key}", default)))
        self.title = QLineEdit(f"{name}: emotion by role")
        self.lanes = QComboBox()
        self.lanes.addItem("one per role", "role")
        self.lanes.addItem("one per speaker", "speaker")
        form.addRow("Part of the lesson", self.part)
        form.addRow("Width", self.width_mm)
        form.addRow("Height", self.height_mm)
        form.addRow("Resolution (PNG)", self.dpi)
        form.addRow("Title", self.title)
        form.addRow("Lanes", self.lanes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`esergui.report.figure_export` (remembers the size)."""
        for key, box in (("width_mm", self.width_mm), ("height_mm", self.height_mm), ("dpi", self.dpi)):
            self.settings.setValue(f"figure/{key}", box.value())
        start, end = self.part.currentData()
        return {
            "start_s": start,
            "end_s": end,
            "dpi": self.dpi.value(),
            "title": self.title.text(),
            "by": self.lanes.currentData(),
            "size": FigureSize(self.width_mm.value() / MM_PER_IN, self.height_mm.value() / MM_PER_IN),
        }


def figure_ranges(win: MainWindow) -> dict[str, tuple[float, float]]:
    """The parts of the current lesson a figure can show: whole, the visible part, and the
    span of the selected utterances when there are any."""
    data = win.lesson_data
    ranges = {"Whole lesson": (0.0, float(data.duration_s))}
    a, b = win.detail.visible_range()
    a, b = max(0.0, a), min(float(data.duration_s), b)
    if b > a and (a, b) != ranges["Whole lesson"]:
        ranges["Visible part"] = (a, b)
    rows = win.selection.rows()
    if rows:
        ranges["Selected utterances"] = (float(min(data.start[r] for r in rows)), float(max(data.end[r] for r in rows)))
    return ranges


def export_paper_figure(
    win: MainWindow,
    path: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> TaskRunner | None:
    """The current lesson's emotion timeline as a figure for a paper (options from
    :class:`PaperFigureDialog` unless given); returns the running writer."""
    lesson = _current_lesson(win)
    if lesson is None:
        return None
    if options is None:
        dialog = PaperFigureDialog(win, lesson.name, figure_ranges(win), win.settings)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        options = dialog.options()
    path = path or _save_path(win, "Figure for a paper", f"{_file_stem(win)}_figure.pdf", FIGURE_TYPES)
    if not path:
        return None
    return _write(win, "Figure", lambda: figure_export(lesson, path, **options))
