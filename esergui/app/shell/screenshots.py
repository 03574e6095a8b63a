"""Regenerate the app's screenshots for the docs (run under a real X server or Xvfb)::

    xvfb-run -a -s "-screen 0 1366x768x24" env QT_QPA_PLATFORM=xcb \\
        .venv/bin/python -m esergui.app.shell.screenshots docs/screenshots

Analyses the bundled demo lesson in a temporary workspace, then saves the main window at the
size it takes on that screen (an utterance selected; lanes per role and per speaker), the
analysis in progress, the dialogs, the one dialog listing several bad files, the context menu
and the exported timeline figure as PNG files in the given folder.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import cast

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

from esergui.app.shell.main import configure_app
from esergui.app.shell.window import MainWindow
from esergui.paths import DEMO_LESSON


def _pump(seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def _wait(condition, timeout: float = 300.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the app did not get there in time")
        QApplication.processEvents()
        time.sleep(0.01)


def _save(widget: QWidget, folder: Path, name: str) -> Path:
    _pump(0.8)
    widget.repaint()
    path = folder / name
    widget.grab().save(str(path))
    print(path)
    return path


def _grab_with_popup(win: QWidget, popup: QWidget, path: Path) -> None:
    """The window with a popup menu painted where it is on screen (a grab misses popups)."""
    from PySide6.QtGui import QPainter

    image = win.grab()
    painter = QPainter(image)
    painter.drawPixmap(win.mapFromGlobal(popup.mapToGlobal(popup.rect().topLeft())), popup.grab())
    painter.end()
    image.save(str(path))
    print(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "docs/screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    # the only application object this program makes is a QApplication
    app = cast(QApplication, QApplication.instance()) or QApplication(sys.argv[:1])
    configure_app(app)
    tmp = Path(tempfile.mkdtemp(prefix="eser-shots-"))
    win = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    win.show()  # first-run geometry: fitted to the screen
    _save(win, folder, "start.png")
    win.open_workspace(tmp / "workspace")
    shot_taken: list[bool] = []

    def during(key, stage: str, fraction: float, message: str) -> None:
        if not shot_taken and (
            (stage == "speakers" and fraction < 1.0) or (stage == "emotions" and 0.2 < fraction < 0.9)
        ):
            shot_taken.append(True)
            _save(win, folder, "analysis_running.png")

    win.queue.jobProgress.connect(during)
    done: list[str] = []
    win.analysisFinished.connect(lambda lid, outcome: done.append(outcome))
    win.add_files([str(DEMO_LESSON)])
    _wait(lambda: done)
    win.queue.jobProgress.disconnect(during)
    _wait(lambda: win.detail.envelope is not None, 60)
    data = win.lesson_data
    students = [i for i in range(len(data)) if data.role[i] == "student"]
    row = students[min(2, len(students) - 1)] if students else 0
    win.selection.select_rows([row], None)
    mid = float(data.start[row] + data.end[row]) / 2
    win.detail.set_range(mid - 20, mid + 20)
    win.detail.wait_for_tiles(20000)
    win.docks["summary"].raise_()
    _save(win, folder, "main_window.png")
    menu = win.annotation.menus.context_menu(win.mapToGlobal(win.rect().center()))
    _pump(0.5)
    _grab_with_popup(win, menu, folder / "annotation_context_menu.png")
    menu.close()
    win.action("lanes_by_speaker").trigger()
    win.detail.set_range(mid - 6, mid + 6)
    win.detail.wait_for_tiles(20000)
    _save(win, folder, "lanes_per_speaker.png")
    win.action("lanes_by_speaker").trigger()
    win.detail.set_range(mid - 20, mid + 20)
    win.export_png(str(folder / "exported_figure.png"))
    for name, open_dialog in (
        ("about.png", win.show_about),
        ("shortcuts.png", win.show_shortcuts),
        ("settings.png", win.show_settings),
    ):
        dialog = open_dialog()
        _save(dialog, folder, name)
        dialog.close()
    bad = tmp / "not_audio.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(300))
    (tmp / "notes.mp3").write_text("lesson notes, not audio")
    (tmp / "empty recording.flac").write_bytes(b"")
    errors: list[str] = []
    win.errors.errorShown.connect(lambda title, reason: errors.append(reason))
    win.add_files(
        [str(bad), str(tmp / "notes.mp3"), str(tmp / "empty recording.flac")], analyse=False, open_first=False
    )
    _wait(lambda: errors, 30)
    box = win.errors.last_box
    assert box is not None, "the bad files were reported in a message box"
    _save(box, folder, "error_dialog.png")
    box.close()
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
