"""Exports from the app: CSV files through :mod:`esergui.export` (the same files and columns
as ``esergui analyze``) and a PNG of widgets (timelines, summary plots) for slides and papers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage, QPainter, QRegion
from PySide6.QtWidgets import QGraphicsView, QWidget

from esergui.app.adapters import summary_rows
from esergui.export import ExportError, export_workspace, write_summaries


def export_lessons_csv(ws: Any, lesson_ids: Sequence[int], folder: str | Path) -> list[Path]:
    """Per lesson ``<name>_utterances.csv``, ``_summary.csv``, ``_bins.csv`` in ``folder``, plus
    ``lessons_summary.csv`` (one row per lesson) for several lessons. Returns the files."""
    results = export_workspace(ws, list(lesson_ids), folder)
    files = [p for r in results for p in (r.utterances_csv, r.summary_csv, r.bins_csv)]
    if len(results) > 1:
        files.append(Path(folder) / "lessons_summary.csv")
    return files


def export_summary_csv(ws: Any, lesson_ids: Sequence[int], path: str | Path) -> Path:
    """One CSV with one summary row per lesson (columns of ``esergui analyze``'s summary)."""
    return write_summaries(summary_rows(ws, lesson_ids), path)


def render_widgets(widgets: Sequence[QWidget], scale: float = 2.0, margin: int = 12) -> QImage:
    """The widgets stacked top to bottom on white, rendered at ``scale`` times screen size."""
    widgets = [w for w in widgets if w.isVisible() or not w.isWindow()]
    width = max((w.width() for w in widgets), default=1) + 2 * margin
    height = sum(w.height() for w in widgets) + margin * (len(widgets) + 1)
    image = QImage(int(width * scale), int(height * scale), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(scale, scale)
    y = margin
    try:
        for w in widgets:
            for view in [w, *w.findChildren(QGraphicsView)]:
                scene = view.scene() if isinstance(view, QGraphicsView) else None
                if scene is not None and hasattr(scene, "prepareForPaint"):
                    scene.prepareForPaint()  # pyqtgraph: bring plots up to date first
            # QWidget.render itself: QGraphicsView.render means something else
            QWidget.render(w, painter, QPoint(margin, y), QRegion(), QWidget.RenderFlag.DrawChildren)
            y += w.height() + margin
    finally:
        painter.end()
    return image


def save_png(widgets: Sequence[QWidget], path: str | Path, scale: float = 2.0) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    image = render_widgets(widgets, scale)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not image.save(str(path), "PNG"):
        raise ExportError(f"cannot write {path}: the image could not be saved")
    return path


__all__ = ["export_lessons_csv", "export_summary_csv", "render_widgets", "save_png"]
