"""Annotation benchmark: how long one edit takes, from the key press to every view showing it,
in the real main window (offscreen Qt) on a 3-hour lesson with 3,000 utterances.

Each edit is written to the workspace in its own transaction (``synchronous=FULL``) and then
shown: a label or boundary edit re-reads the lesson and redraws the table, timelines and
summary (``MainWindow.reload_current_lesson``); a note key stroke, a code or the reviewed flag
updates only the records the table shows. Run::

    nice -n 10 .venv/bin/python bench/annotation_bench.py [--markdown FILE]

The lesson comes from ``bench/gui_bench.py``'s work folder when it has been built there
(copied, the audio cache hard-linked), else it is built the same way (real EmoDB speech,
random emotions: the model is not what is measured).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def lesson_with(folder: Path, n: int) -> int | None:
    db = folder / "workspace.sqlite"
    if not db.is_file():
        return None
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT lesson_id FROM utterances WHERE deleted = 0 GROUP BY lesson_id HAVING COUNT(*) >= ? LIMIT 1", (n,)
        ).fetchone()
    finally:
        con.close()
    return None if row is None else int(row[0])


def prepare(out: Path, minutes: float, n_utts: int) -> tuple[Path, int]:
    """A private workspace with a lesson of ``n_utts`` utterances (edits must not touch others')."""
    folder = out / "workspace"
    if folder.exists():
        shutil.rmtree(folder)
    source = ROOT / "bench" / "out" / "gui" / "workspace"
    lid = lesson_with(source, n_utts)
    if lid is not None:
        folder.mkdir(parents=True)
        with sqlite3.connect(source / "workspace.sqlite") as src, sqlite3.connect(folder / "workspace.sqlite") as dst:
            src.backup(dst)
        shutil.copytree(source / "cache", folder / "cache", copy_function=os.link)
        return folder, lid
    from bench.gui_bench import build_audio, store_lesson
    from esergui.workspace import Workspace

    audio = out / "lesson.wav"
    truth = build_audio(audio, minutes, seed=200)
    with Workspace.open(folder) as ws:
        lid = store_lesson(ws, audio, truth, n_utts, seed=200)
    return folder, lid


def timed(app, action, repeat: int) -> list[float]:
    """Milliseconds per call of ``action(k)`` including the events it leaves pending."""
    out = []
    for k in range(repeat):
        t0 = time.perf_counter()
        action(k)
        app.processEvents()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def row(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {max(ms):.0f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "annotation"))
    parser.add_argument("--markdown", help="also write the table to this Markdown file")
    parser.add_argument("--minutes", type=float, default=180.0)
    parser.add_argument("--utterances", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from esergui.app.shell.main import configure_app
    from esergui.app.shell.window import MainWindow

    configure_app(app)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder, lid = prepare(out, args.minutes, args.utterances)
    win = MainWindow(QSettings(str(out / "settings.ini"), QSettings.Format.IniFormat), stream_factory=lambda **kw: None)
    win.resize(1600, 1000)
    win.show()
    win.open_workspace(folder)
    win.open_lesson(lid)
    t0 = time.perf_counter()
    while win.lesson_data.source is None and time.perf_counter() - t0 < 60:
        app.processEvents()
    win.activateWindow()
    win.table.view.setFocus()
    app.processEvents()
    n = len(win.lesson_data)
    c = win.annotation
    view = win.table.view
    rows = list(range(100, n - 100, max(1, (n - 200) // args.repeat)))[: args.repeat]

    def select(k: int) -> None:
        win.selection.select_rows([rows[k % len(rows)]], win.table)

    def press(key):
        def act(k: int) -> None:
            select(k)
            QTest.keyClick(view, key)

        return act

    results = {}
    results["emotion key (1 utterance): write + reload + redraw"] = timed(app, press(Qt.Key.Key_3), args.repeat)
    results["role key T (1 utterance)"] = timed(app, press(Qt.Key.Key_T), args.repeat)
    results["undo (Ctrl+Z) of a role edit"] = timed(app, lambda k: win.undo_stack.undo(), args.repeat)

    def select_many(k: int) -> None:
        a = rows[k % len(rows)]
        win.selection.select_rows(list(range(a, a + 20)), win.table)
        QTest.keyClick(view, Qt.Key.Key_5)

    results["emotion key on 20 selected utterances"] = timed(app, select_many, args.repeat)
    results["code key Q (light refresh)"] = timed(app, press(Qt.Key.Key_Q), args.repeat)
    results["reviewed key R (light refresh)"] = timed(app, press(Qt.Key.Key_R), args.repeat)
    select(0)
    note = c.panel.note
    note.setFocus()
    results["note key stroke (saved at once, light refresh)"] = timed(
        app, lambda k: QTest.keyClick(note, Qt.Key.Key_A), args.repeat
    )
    view.setFocus()

    def split(k: int) -> None:
        select(k)
        r = rows[k % len(rows)]
        d = win.lesson_data
        win.detail.set_cursor(float(d.start[r] + d.end[r]) / 2, emit=False)
        QTest.keyClick(view, Qt.Key.Key_X)

    results["split at cursor (X)"] = timed(app, split, args.repeat)

    ws = win.workspace
    ids = [int(win.lesson_data.ids[r]) for r in rows]
    results["store only: Workspace.set_emotion (1 utterance)"] = timed(
        app, lambda k: ws.set_emotion([ids[k % len(ids)]], "fear"), args.repeat
    )
    results["store only: MainWindow.reload_current_lesson"] = timed(
        app, lambda k: win.reload_current_lesson(), args.repeat
    )
    win.shutdown()

    lines = [
        f"Annotation edit latency, {n} utterances, {win.lesson_data.duration_s / 60 if win.lesson_data.duration_s else args.minutes:.0f}-minute lesson"
        f" (offscreen Qt, `nice -n 10`, 2 shared CPU cores; ms per edit, key press to views updated)",
        "",
        "| edit | n | median ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        *(row(name, ms) for name, ms in results.items()),
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
