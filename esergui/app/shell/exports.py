"""Exports from the app: CSV files through :mod:`esergui.formats` (the same files and columns
as ``esergui analyze``) and a PNG of widgets (timelines, summary plots) for slides and papers;
:class:`ExportController` asks where to save and reports what it wrote."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QEventLoop, QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QRegion
from PySide6.QtWidgets import QFileDialog, QGraphicsView, QProgressDialog, QWidget

from esergui.app.common.workers import TaskRunner, one_line
from esergui.errors import USER_ERRORS, os_problem
from esergui.formats.csvout import CsvOptions
from esergui.formats.exporting import ExportOptions, export_workspace, write_summaries
from esergui.formats.files import ExportError
from esergui.formats.importing import ImportReport, apply_to_lesson, read_annotations
from esergui.review.adapters import summary_rows

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow
    from esergui.workspace import Workspace


def export_lessons_csv(
    ws: Workspace, lesson_ids: Sequence[int], folder: str | Path, options: CsvOptions = CsvOptions()
) -> list[Path]:
    """Per lesson ``<name>_utterances.csv``, ``_summary.csv``, ``_bins.csv`` in ``folder``, plus
    ``lessons_summary.csv`` (one row per lesson) for several lessons. Returns the files."""
    results = export_workspace(ws, list(lesson_ids), folder, options=ExportOptions(options))
    files = [p for r in results for p in r.files]
    if len(results) > 1:
        files.append(Path(folder) / "lessons_summary.csv")
    return files


def export_summary_csv(ws: Workspace, lesson_ids: Sequence[int], path: str | Path) -> Path:
    """One CSV with one summary row per lesson (columns of ``esergui analyze``'s summary)."""
    return write_summaries(summary_rows(ws, lesson_ids), path)


def render_rows(rows: Sequence[Sequence[QWidget]], scale: float = 2.0, margin: int = 12) -> QImage:
    """Widgets in rows (each row left to right, rows top to bottom) on white, rendered at
    ``scale`` times their on-screen size."""
    rows = [list(r) for r in rows if r]
    width = max((sum(w.width() for w in r) + margin * (len(r) + 1) for r in rows), default=1)
    height = sum(max(w.height() for w in r) for r in rows) + margin * (len(rows) + 1)
    image = QImage(int(width * scale), int(height * scale), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(scale, scale)
    y = margin
    try:
        for row in rows:
            x = margin
            for w in row:
                for view in [w, *w.findChildren(QGraphicsView)]:
                    scene = view.scene() if isinstance(view, QGraphicsView) else None
                    if scene is not None and hasattr(scene, "prepareForPaint"):
                        scene.prepareForPaint()  # pyqtgraph: bring plots up to date first
                # QWidget.render itself: QGraphicsView.render means something else
                QWidget.render(w, painter, QPoint(x, y), QRegion(), QWidget.RenderFlag.DrawChildren)
                x += w.width() + margin
            y += max(w.height() for w in row) + margin
    finally:
        painter.end()
    return image


def save_image(image: QImage, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {os_problem(exc)}") from None
    # ignore: the PySide6 stubs type the format as bytes, but save() takes a str (bytes raise ValueError)
    if not image.save(str(path), "PNG"):  # type: ignore[call-overload]
        raise ExportError(f"cannot write {path}: the image could not be saved")
    return path


def lesson_figure(timeline: QWidget, plots: Sequence[Any], scale: float = 2.0) -> QImage:
    """The timelines with the summary plots side by side under them, as wide as the timelines.

    ``plots`` are :class:`esergui.app.summary.panel.StackedBars`; copies of them are laid out at
    the figure's width, so the panel on screen is not disturbed."""
    copies = [p.copy() for p in plots]
    width = max(200, (timeline.width() - 12 * (len(copies) - 1)) // max(1, len(copies)))
    for c in copies:
        c.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        c.resize(width, 260)
        c.show()
    try:
        return render_rows([[timeline], copies], scale)
    finally:
        for c in copies:
            c.close()
            c.deleteLater()


T = TypeVar("T")


def run_off_gui_thread(win: MainWindow, what: str, work: Callable[[], T], doing: str = "Working…") -> T | None:
    """``work()`` on a worker thread while the window stays responsive; a modal busy dialog
    saying ``doing`` (shown after half a second) keeps the user from changing the workspace
    meanwhile. Returns its result, or ``None`` after showing the one-line error dialog titled
    "``what`` failed"."""
    outcome: dict[str, Any] = {}
    runner = TaskRunner(lambda _progress, _cancel, _partial: work(), win)
    runner.succeeded.connect(lambda result: outcome.__setitem__("result", result))
    runner.failed.connect(lambda reason, _details: outcome.__setitem__("error", reason))
    busy = QProgressDialog(doing, "", 0, 0, win)
    busy.setWindowTitle(what)
    busy.setCancelButton(None)  # writing files: nothing to cancel halfway
    busy.setWindowModality(Qt.WindowModality.WindowModal)
    busy.setMinimumDuration(500)
    busy.setValue(0)  # starts the half-second timer after which the dialog shows
    loop = QEventLoop()
    runner.finished.connect(loop.quit)
    runner.start()
    if runner.running:
        loop.exec()
    runner.wait()  # 'finished' comes just before the thread has fully ended
    busy.reset()
    busy.deleteLater()
    if "error" in outcome:
        win.errors.error(f"{what} failed", outcome["error"])
        return None
    return outcome.get("result")


__all__ = ["export_lessons_csv", "export_summary_csv", "render_rows", "save_image", "lesson_figure"]


class ExportController:
    """File > Export: CSV files, the summary CSV, ELAN/Praat/RTTM/Audacity/JSON files and the
    lesson figure of the current or the selected lessons; File > Import Annotations."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win

    def _export_ids(self) -> list[int]:
        ids = self.win.library.selected_ids()
        if len(ids) <= 1 and self.win.current_id is not None:
            ids = [self.win.current_id]
        return ids

    def export_csv(self, folder: str | None = None, ids: list[int] | None = None) -> list[Path]:
        """Utterances, summary and 5-minute-bin CSVs per lesson (as ``esergui analyze`` writes
        them) plus ``lessons_summary.csv`` when there are several; returns the written files."""
        ids = ids or self._export_ids()
        if not ids:
            return []
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                self.win, "Export CSV files to folder", str(self.win.settings.value("export/dir", ""))
            )
            if not folder:
                return []
            self.win.settings.setValue("export/dir", folder)
        ws, options = self.win.require_workspace(), self.csv_options()
        files = run_off_gui_thread(
            self.win, "Export", lambda: export_lessons_csv(ws, ids, folder, options), "Writing the CSV files…"
        )
        if files is None:
            return []
        self.win.statusBar().showMessage(f"Exported {len(files)} file(s) to {folder}", 8000)
        return files

    def csv_options(self) -> CsvOptions:
        """File > Export's spreadsheet options (UTF-8 with BOM; semicolons and decimal commas)."""
        value = self.win.settings.value
        return CsvOptions(
            bom=str(value("export/csv_bom", False)).lower() == "true",
            semicolon=str(value("export/csv_semicolon", False)).lower() == "true",
        )

    def export_formats(
        self, formats: Sequence[str], folder: str | None = None, ids: list[int] | None = None
    ) -> list[Path]:
        """ELAN, Praat, RTTM, Audacity-label or JSON files of the current or selected lessons as
        stored, human edits applied (``esergui export``; docs/FORMATS.md); returns the files."""
        ids = ids or self._export_ids()
        if not ids:
            return []
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                self.win, "Export files to folder", str(self.win.settings.value("export/dir", ""))
            )
            if not folder:
                return []
            self.win.settings.setValue("export/dir", folder)
        ws, options = self.win.require_workspace(), ExportOptions(self.csv_options())
        results = run_off_gui_thread(
            self.win, "Export", lambda: export_workspace(ws, ids, folder, formats, options), "Writing the files…"
        )
        if results is None:
            return []
        files = [p for r in results for p in r.files]
        clipped = sum(r.clipped + r.dropped for r in results)
        note = f"; {clipped} overlapping utterance(s) clipped to fit one tier" if clipped else ""
        self.win.statusBar().showMessage(f"Exported {len(files)} file(s) to {folder}{note}", 8000)
        return files

    def import_annotations(self, path: str | None = None, overwrite: bool = False) -> ImportReport | None:
        """An ELAN, Praat, RTTM, Audacity-label or ESER CSV/JSON file becomes the human labels of
        the current lesson (``esergui import``; docs/FORMATS.md). Clears Undo (the import is
        one entry of the lesson's edit log)."""
        ws, lesson_id = self.win.workspace, self.win.current_id
        if ws is None or lesson_id is None:
            self.win.statusBar().showMessage("Open a lesson first.", 5000)
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.win,
                "Import annotations into this lesson",
                str(self.win.settings.value("export/dir", "")),
                "Annotations (*.eaf *.TextGrid *.rttm *.txt *.csv *.json);;All files (*)",
            )
            if not path:
                return None
        name, source = ws.lesson(lesson_id).name, path
        report = run_off_gui_thread(
            self.win,
            "Import",
            lambda: apply_to_lesson(ws, lesson_id, read_annotations(source, lesson=name), overwrite),
            "Reading the annotations…",
        )
        if report is None:
            return None
        self.win.undo_stack.clear()
        self.win.reload_current_lesson()
        self.win.statusBar().showMessage("Imported: " + "; ".join(report.lines()), 15000)
        return report

    def export_summary(self, path: str | None = None, ids: list[int] | None = None) -> Path | None:
        """One summary CSV, one row per lesson (selected lessons, or the current one)."""
        ids = ids or self._export_ids()
        if not ids:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.win,
                "Export summary CSV",
                str(Path(str(self.win.settings.value("export/dir", ""))) / "lessons_summary.csv"),
                "CSV files (*.csv)",
            )
            if not path:
                return None
        ws, target = self.win.require_workspace(), path
        out = run_off_gui_thread(
            self.win, "Export", lambda: export_summary_csv(ws, ids, target), "Writing the summary CSV…"
        )
        if out is None:
            return None
        self.win.statusBar().showMessage(f"Exported {out}", 8000)
        return out

    def export_png(self, path: str | None = None) -> Path | None:
        """The timelines and the summary plots of the current lesson as one PNG (2x scale)."""
        if path is None:
            stem = (self.win.lesson_data.name or "lesson").replace(" ", "_")
            path, _ = QFileDialog.getSaveFileName(
                self.win,
                "Export figure",
                str(Path(str(self.win.settings.value("export/dir", ""))) / f"{stem}_timeline.png"),
                "PNG images (*.png)",
            )
            if not path:
                return None
        try:
            self.win.detail.render_now()
            out = save_image(
                lesson_figure(self.win.splitter, [self.win.summary.by_role, self.win.summary.by_bin]), path
            )
        except USER_ERRORS as exc:
            self.win.errors.error("Export failed", one_line(exc))
            return None
        self.win.statusBar().showMessage(f"Saved {out}", 8000)
        return out
