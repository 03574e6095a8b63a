"""Start the desktop app: ``esergui [FILE ...] [--workspace DIR] [--demo]``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from esergui import __version__
from esergui.app.common.icons import icon
from esergui.app.shell.demo import default_data_dir, open_demo
from esergui.app.shell.window import MainWindow
from esergui.lesson import stored_id
from esergui.paths import RESOURCES_DIR

log = logging.getLogger(__name__)
ORGANISATION = "ESER"
APP_NAME = "ESER Studio"


def configure_app(app: QApplication) -> None:
    """Names (for QSettings and the data folder), pyqtgraph defaults, icon and stylesheet."""
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    app.setDesktopFileName("eser-studio")
    app.setWindowIcon(icon("eser-studio"))
    pg.setConfigOptions(background="w", foreground="#222222", antialias=False, imageAxisOrder="col-major")
    style = RESOURCES_DIR / "style" / "app.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))


def start(win: MainWindow, args: argparse.Namespace) -> None:
    """Apply the command line to a shown window."""
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
            lessons = win.require_workspace().lessons()
            if lessons:
                win.open_lesson(stored_id(lessons[-1].id))


def run_app(args: argparse.Namespace | None = None, argv: Sequence[str] | None = None) -> int:
    """Create the application and the main window, apply ``args``, run the event loop."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # the only application object this program makes is a QApplication
    app = cast(QApplication, QApplication.instance()) or QApplication(list(argv) if argv is not None else sys.argv[:1])
    configure_app(app)
    win = MainWindow(QSettings())
    win.show()
    QTimer.singleShot(0, lambda: start(win, args or argparse.Namespace(files=[], workspace=None, demo=False)))
    return int(app.exec())
