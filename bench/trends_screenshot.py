"""Screenshot of Tools ▸ Trends Across Lessons… (docs/screenshots/trends.png).

Builds four 20-second lessons of EmoDB speech (``bench.synth``) named with four dates in a
temporary folder, analyses them with the app's own jobs, opens the dialog in the main window
and grabs it. Run under X at 1366x768:

    xvfb-run -a -s "-screen 0 1366x768x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python bench/trends_screenshot.py docs/screenshots/trends.png
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synth import build_lesson  # noqa: E402
from esergui.progress import CancelToken  # noqa: E402
from esergui.review import jobs  # noqa: E402
from esergui.workspace import Workspace  # noqa: E402

DATES = ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23")


def analysed_workspace(folder: Path, dates: tuple[str, ...] = DATES) -> Path:
    """``folder/workspace`` with one analysed 20-second lesson named ``<date> maths 7b`` per date."""
    files = []
    for seed, date in zip((5, 7, 9, 11, 13, 15), dates):
        lesson = build_lesson(seed=seed, duration_s=20.0, noise="room", snr_db=25.0)
        path = folder / f"{date} maths 7b.wav"
        sf.write(path, lesson.audio, lesson.sr, subtype="PCM_16")
        files.append(str(path))
    ws = Workspace.open(folder / "workspace")
    try:
        cancel = CancelToken()
        ids, problems = jobs.add_lessons_job(ws, files)(lambda *a: None, cancel, lambda _: None)
        if problems or len(ids) != len(files):
            raise RuntimeError(f"lessons not added: {problems}")
        for lesson_id in ids:
            jobs.analysis_job(ws, lesson_id, "cpu")(lambda *a: None, cancel, lambda _: None)
    finally:
        ws.close()
    return folder / "workspace"


def main(out: str) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from esergui.app.library.trends_dialog import TrendsDialog
    from esergui.app.shell.main import configure_app
    from esergui.app.shell.window import MainWindow

    torch.set_num_threads(1)
    app = QApplication([])
    configure_app(app)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    with tempfile.TemporaryDirectory() as tmp:
        workspace = analysed_workspace(Path(tmp))
        win = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        win.resize(1366, 768)
        win.show()
        assert win.open_workspace(workspace)
        win.actions_["trends"].trigger()
        dlg = win.findChild(TrendsDialog)
        assert dlg is not None
        end = time.monotonic() + 60
        while dlg.trends is None and time.monotonic() < end:
            pump(0.05)
        dlg.resize(1340, 740)
        dlg.move(10, 10)
        pump(1.0)
        dlg.grab().save(out)
        dlg.close()
        win.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots/trends.png")
