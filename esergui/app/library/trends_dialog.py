"""Tools ▸ Trends Across Lessons…: per teacher (or over all lessons), talk share, student turns
per minute, wait-time proxies and arousal over the lessons' dates, as a table and a plot.

The table is :func:`esergui.review.trends.workspace_trends` (the same rows as the summary CSV,
grouped by :func:`esergui.batch.trends.lesson_trends`, as ``esergui trends`` does for a batch);
the plot is :func:`esergui.batch.trends.plot_trends` rendered to a PNG in a temporary folder.
Both are computed in a worker thread (:class:`~esergui.app.common.workers.TaskRunner`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from esergui.app.common.workers import TaskRunner
from esergui.batch.trends import TREND_FIGURES, Trends, TrendsError, plot_trends
from esergui.formats.csvout import write_csv
from esergui.lesson import LessonStatus
from esergui.review.trends import GROUPINGS, workspace_trends

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow
    from esergui.workspace import Workspace

_ANALYSED = (LessonStatus.ANALYSED, LessonStatus.EDITED)


def trends_job(ws: Workspace, lesson_ids: list[int], by: str, png: Path) -> Any:
    """A :data:`~esergui.app.common.workers.Job`: ``(trends, png path or None, plot message)``."""

    def job(progress, cancel, _partial) -> tuple[Trends, Path | None, str]:
        def step(fraction: float) -> None:
            cancel.raise_if_cancelled()
            progress("summaries", fraction * 0.8, "Summarising lessons")

        trends = workspace_trends(ws, lesson_ids, by, step)
        progress("plot", 0.9, "Drawing the plot")
        try:
            return trends, plot_trends(trends, png), ""
        except TrendsError as exc:
            return trends, None, str(exc)

    return job


class TrendsDialog(QDialog):
    """The table and plot of trends across the workspace's analysed lessons."""

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trends Across Lessons")
        self.ws = ws
        self.trends: Trends | None = None
        self.runner: TaskRunner | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="eser_trends_"))
        self.png: Path | None = None
        self._pixmap: QPixmap | None = None

        self.group = QComboBox()
        for key, text in GROUPINGS.items():
            self.group.addItem(text, key)
        self.group.setToolTip(
            "Teacher: the enrolled teacher voice linked to the lesson, else the speaker with the most teacher talk"
        )
        self.group.currentIndexChanged.connect(self.refresh)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.model = QStandardItemModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.plot = QLabel("Computing…")
        self.plot.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.plot)
        self.plot_area = scroll
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(scroll)
        split.setSizes([620, 620])

        self.export_csv_button = QPushButton("Export &CSV…")
        self.export_csv_button.setToolTip("Save the trend table as CSV (the columns of esergui trends)")
        self.export_csv_button.clicked.connect(self._ask_csv)
        self.export_png_button = QPushButton("Export &PNG…")
        self.export_png_button.setToolTip("Save the plot as a PNG image")
        self.export_png_button.clicked.connect(self._ask_png)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.export_csv_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.export_png_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(QLabel("Group by:"))
        top.addWidget(self.group)
        top.addWidget(self.info, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.resize(1280, 700)
        self._set_exports(False)
        self.refresh()

    # ------------------------------------------------------------------ computing
    def lesson_ids(self) -> list[int]:
        return [lesson.id for lesson in self.ws.lessons() if lesson.status in _ANALYSED and lesson.id is not None]

    def refresh(self) -> None:
        """Compute the trends again (in a worker thread) for the chosen grouping."""
        if self.runner is not None:
            self.runner.cancel()
        ids = self.lesson_ids()
        if not ids:
            self.info.setText("No analysed lessons in this workspace: analyse some lessons first.")
            self.plot.setText("")
            return
        by = str(self.group.currentData())
        self.info.setText(f"Computing trends of {len(ids)} analysed lesson(s)…")
        self._set_exports(False)
        png = self._tmp / f"trends_by_{by}.png"
        runner = TaskRunner(trends_job(self.ws, ids, by, png), self)
        runner.succeeded.connect(lambda result, r=runner: self._show(result) if r is self.runner else None)
        runner.failed.connect(
            lambda reason, _d, r=runner: (
                self.info.setText(f"Cannot compute trends: {reason}") if r is self.runner else None
            )
        )
        self.runner = runner
        runner.start()

    def busy(self) -> bool:
        return self.runner is not None and self.runner.running

    def _show(self, result: tuple[Trends, Path | None, str]) -> None:
        trends, png, plot_message = result
        self.trends, self.png = trends, png
        table = trends.table
        self.model.clear()
        self.model.setHorizontalHeaderLabels([TREND_FIGURES.get(c, c) for c in table.columns])
        for values in table.itertuples(index=False):
            items = []
            for value in values:
                item = QStandardItem()
                if isinstance(value, float):
                    item.setData(round(value, 3) if value == value else "", Qt.ItemDataRole.DisplayRole)
                else:
                    item.setData(value, Qt.ItemDataRole.DisplayRole)
                items.append(item)
            self.model.appendRow(items)
        self.table.resizeColumnsToContents()
        groups = table[trends.by].nunique() if len(table) else 0
        undated = f"; {trends.undated} without a date left out" if trends.undated else ""
        self.info.setText(
            f"{int(table['lessons'].sum()) if len(table) else 0} lesson(s), {groups} group(s), "
            f"{len(table)} row(s) (one per group and date){undated}. Dates come from the lesson name "
            "(e.g. 2026-03-14), else the audio file's date."
        )
        self._pixmap = QPixmap(str(png)) if png is not None else None
        if self._pixmap is None:
            self.plot.setText(plot_message)
        self._scale_plot()
        self._set_exports(True)

    def _scale_plot(self) -> None:
        """Fit the plot to the width of its area (room kept for the vertical scroll bar)."""
        if self._pixmap is not None:
            bar = self.plot_area.verticalScrollBar().sizeHint().width()
            width = max(300, self.plot_area.viewport().width() - bar - 4)
            self.plot.setPixmap(self._pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._scale_plot()

    def _set_exports(self, enabled: bool) -> None:
        self.export_csv_button.setEnabled(enabled)
        self.export_png_button.setEnabled(enabled and self.png is not None)

    # ------------------------------------------------------------------ exporting
    def export_csv(self, path: str | Path) -> Path:
        """The trend table as CSV (the project's CSV writer, as ``esergui trends`` writes it)."""
        if self.trends is None:
            raise TrendsError("the trends are not computed yet")
        return write_csv(self.trends.table, path)

    def export_png(self, path: str | Path) -> Path:
        if self.png is None:
            raise TrendsError("there is no plot to save")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.png, path)
        return path

    def _ask(self, kind: str, pattern: str, save: Any) -> None:
        by = self.trends.by if self.trends is not None else "teacher"
        path, _ = QFileDialog.getSaveFileName(self, f"Export Trends {kind}", f"trends_by_{by}.{kind.lower()}", pattern)
        if not path:
            return
        try:
            written = save(path)
        except (OSError, TrendsError) as exc:
            self.info.setText(f"Could not save {path}: {exc}")
            return
        self.info.setText(f"Saved {written}")

    def _ask_csv(self) -> None:
        self._ask("CSV", "CSV files (*.csv)", self.export_csv)

    def _ask_png(self) -> None:
        self._ask("PNG", "PNG images (*.png)", self.export_png)

    def done(self, result: int) -> None:  # noqa: D401 (Qt API)
        if self.runner is not None:
            self.runner.cancel()
            self.runner.wait()
        shutil.rmtree(self._tmp, ignore_errors=True)
        super().done(result)


def install(win: MainWindow) -> None:
    """Add Tools ▸ Trends Across Lessons… (needs an open workspace)."""

    def open_trends() -> None:
        ws = win.workspace
        if ws is None:
            win.errors.error("No workspace", "Open or create a workspace first (File ▸ Open Workspace).")
            return
        dlg = TrendsDialog(ws, win)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()

    tip = "Talk share, student turns per minute, wait-time proxies and arousal per teacher over the lesson dates"
    act = QAction("&Trends Across Lessons…", win)
    act.setObjectName("action_trends")
    act.setStatusTip(tip)
    act.setToolTip(tip)
    act.triggered.connect(open_trends)
    win.menu("tools").addAction(act)
    win.actions_["trends"] = act
