"""Start the desktop app: ``esergui [FILE ...] [--workspace DIR] [--demo]``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from esergui import __version__
from esergui.paths import DEMO_LESSON, RESOURCES_DIR

log = logging.getLogger(__name__)
ORGANISATION = "ESER"
APP_NAME = "ESER Studio"


def configure_app(app: QApplication) -> None:
    """Names (for QSettings and the data folder), pyqtgraph defaults, icon and stylesheet."""
    import pyqtgraph as pg

    from esergui.app.icons import icon

    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    app.setDesktopFileName("eser-studio")
    app.setWindowIcon(icon("eser-studio"))
    pg.setConfigOptions(background="w", foreground="#222222", antialias=False, imageAxisOrder="col-major")
    style = RESOURCES_DIR / "style" / "app.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))


def demo_workspace_dir() -> Path:
    from esergui.app.mainwindow import default_data_dir

    return default_data_dir() / "demo-workspace"


def open_demo(win, folder: Path | None = None, demo_file: Path = DEMO_LESSON) -> bool:
    """Open the demo workspace (created on first use), add the bundled demo lesson, analyse it
    if it is not analysed yet, and show it."""
    if not Path(demo_file).is_file():
        win.errors.error("Demo lesson missing", f"The bundled demo lesson {demo_file} is not installed.")
        return False
    if not win.open_workspace(folder or demo_workspace_dir()):
        return False
    from esergui.workspace import full_hash

    digest = full_hash(Path(demo_file))
    for lesson in win.workspace.lessons():
        if lesson.audio_sha256 == digest:
            if lesson.status.value in ("not analysed", "analysing"):
                win.analyse([int(lesson.id)])
            win.open_lesson(int(lesson.id))
            return True
    win.add_files([str(demo_file)], analyse=True, open_first=True)
    return True


def start(win, args: argparse.Namespace) -> None:
    """Apply the command line to a shown window."""
    from esergui.app.mainwindow import default_data_dir

    files = [str(Path(f).expanduser()) for f in (getattr(args, "files", None) or [])]
    if getattr(args, "demo", False):
        open_demo(win)
        if files:
            win.add_files(files)
        return
    folder = getattr(args, "workspace", None)
    if folder is None:
        last = win.settings.value("workspace/last")
        if last and Path(str(last)).is_dir():
            folder = str(last)
        elif files:
            folder = str(default_data_dir() / "workspace")
    if folder is not None and win.open_workspace(folder):
        if files:
            win.add_files(files)
        else:
            lessons = win.workspace.lessons()
            if lessons:
                win.open_lesson(int(lessons[-1].id))


def run_app(args: argparse.Namespace | None = None, argv: Sequence[str] | None = None) -> int:
    """Create the application and the main window, apply ``args``, run the event loop."""
    from esergui.app.mainwindow import MainWindow

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(list(argv) if argv is not None else sys.argv[:1])
    configure_app(app)
    win = MainWindow(QSettings())
    win.show()
    QTimer.singleShot(0, lambda: start(win, args or argparse.Namespace(files=[], workspace=None, demo=False)))
    return int(app.exec())
