"""Screenshots of the annotation states for docs/ (real window on the conversation sample).

Run under a virtual screen so menus and dialogs are real windows::

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \\
        nice -n 10 .venv/bin/python bench/annotation_screens.py [--out docs/screenshots]

Writes ``annotation_*.png``: the window while editing (edge handles, human/model tags, panel),
the context menu, a marked range, the speakers and undo history panels, the model-vs-human
comparison after a re-analysis, the agreement dialog and the code list dialog.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from annotation_support import LABELS, add_conversation, model_output

    from esergui.app.shell.main import configure_app
    from esergui.app.shell.window import MainWindow
    from esergui.formats.csvout import write_csv
    from esergui.formats.tables import utterances_frame
    from esergui.lesson import AnalysisRun, Speaker
    from esergui.paths import conversation_dir
    from esergui.workspace import Workspace

    configure_app(app)
    tmp = Path(tempfile.mkdtemp(prefix="eser-annot-"))
    with Workspace.open(tmp / "ws") as ws:
        lid = add_conversation(ws, conversation_dir(), name="Year 8 science — group talk")
    settings = QSettings(str(tmp / "app.ini"), QSettings.Format.IniFormat)
    settings.setValue("annotation/annotator", "anna")
    win = MainWindow(settings, stream_factory=lambda **kw: None)
    win.resize(1600, 1000)
    win.show()
    win.open_workspace(tmp / "ws")
    win.open_lesson(lid)

    def settle(seconds: float = 0.6) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    settle(2.0)
    win.detail.wait_for_tiles(10000)
    settle()
    win.activateWindow()
    view = win.table.view
    view.setFocus()
    c = win.annotation

    def shot(name: str, widget=None) -> None:
        settle()
        pm = (widget or win).grab()
        pm.save(str(out / f"annotation_{name}.png"))
        print("wrote", out / f"annotation_{name}.png")

    def screen(name: str) -> None:
        settle()
        app.primaryScreen().grabWindow(0).save(str(out / f"annotation_{name}.png"))
        print("wrote", out / f"annotation_{name}.png")

    # some work already done: labels, a code, a note, reviewed (the keys are tested in tests/;
    # under Xvfb without a window manager the window is not active, so shortcuts would not fire)
    ids = [int(i) for i in win.lesson_data.ids]
    c.set_emotion("happiness", ids[:2])
    c.set_reviewed(True, ids[:2])
    c.toggle_code("lecture", ids[2:3])
    c.set_note("explains the task; students interrupt", ids[2:3])
    c.set_reviewed(True, ids[2:3])
    c.toggle_code("question", ids[3:4])
    c.set_role("teacher", ids[3:4])
    win.selection.select_rows([4])
    win.detail.set_range(6.0, 16.0)
    settle()
    shot("editing")

    # the context menu on the table
    rect = view.visualRect(win.table.proxy.mapFromSource(win.table.model.index(4, 6)))
    menu = c.menus.context_menu(view.viewport().mapToGlobal(rect.center()))
    settle()
    emotion = next(a for a in menu.actions() if a.text() == "&Emotion")
    menu.setActiveAction(emotion)
    settle()
    screen("context_menu")
    menu.close()

    # a marked range (Shift+drag) in the detail view
    c.mark_range(2.0, 4.6)
    win.detail.set_range(0.0, 12.0)
    settle()
    win.detail.wait_for_tiles(10000)
    settle(1.0)
    shot("marked_range", win.splitter)
    c.marked_range = None
    c.rangeMarked.emit(None)

    # speakers + undo history: rename the teacher first
    c.rename_speaker("S1", "Ms Weber")
    win.docks["speakers"].raise_()
    settle()
    c.speakers_panel.select_labels(["S1"])
    speakers = win.docks["speakers"]
    shot("speakers", speakers)
    win.docks["undo_history"].raise_()
    shot("undo_history", win.docks["undo_history"])

    # a re-analysis with another model, then the comparison
    ws = win.workspace
    ws.store_analysis(
        lid,
        AnalysisRun(labels=LABELS, model_name="retrained"),
        model_output(conversation_dir() / "sample.rttm", 1),
        [Speaker("S1", "teacher"), Speaker("S2", "student")],
    )
    win.reload_current_lesson()
    win.docks["compare"].raise_()
    win.selection.select_rows([0])
    shot("compare")

    # agreement with a second annotator (their CSV: two emotions differ)
    frame = utterances_frame(ws.utterances(lid), LABELS, "Year 8 science — group talk")
    frame.loc[1, "emotion"] = "neutral"
    frame.loc[5, "emotion"] = "anger"
    csv = write_csv(frame, tmp / "ben_utterances.csv")
    from esergui.app.annotation.agreement_dialog import run_agreement

    dialog = run_agreement(c, str(csv))
    settle()
    shot("agreement", dialog)
    dialog.close()

    codes = c.edit_codes()
    settle()
    shot("codes", codes)
    codes.close()
    win.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
