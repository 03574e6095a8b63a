"""The demo lesson and the user's data folder: :func:`open_demo` opens the demo workspace
(made on first use below :func:`default_data_dir`), adds the bundled demo lesson and analyses
it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths

from esergui.lesson import stored_id
from esergui.paths import DEMO_LESSON
from esergui.workspace import full_hash

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow


def default_data_dir() -> Path:
    """The user's data folder for ESER Studio (the demo workspace lives below it)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".local" / "share" / "ESER Studio")


def demo_workspace_dir() -> Path:
    return default_data_dir() / "demo-workspace"


def open_demo(win: MainWindow, folder: Path | None = None, demo_file: Path = DEMO_LESSON) -> bool:
    """Open the demo workspace (created on first use), add the bundled demo lesson, analyse it
    if it is not analysed yet, and show it."""
    if not Path(demo_file).is_file():
        win.errors.error("Demo lesson missing", f"The bundled demo lesson {demo_file} is not installed.")
        return False
    if not win.open_workspace(folder or demo_workspace_dir()):
        return False
    digest = full_hash(Path(demo_file))
    for lesson in win.require_workspace().lessons():
        if lesson.audio_sha256 == digest:
            if lesson.status.value in ("not analysed", "analysing"):
                win.analyse([stored_id(lesson.id)])
            win.open_lesson(stored_id(lesson.id))
            return True
    win.add_files([str(demo_file)], analyse=True, open_first=True)
    return True
