"""Tools ▸ Trends Across Lessons… in the real main window (offscreen): a workspace of two short
lessons of real speech on two dates, analysed by the app's own jobs; the dialog's table has one
row per date with the summary CSV's figures, and its CSV and PNG exports are real files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

pytestmark = pytest.mark.qt

from PySide6.QtCore import QSettings  # noqa: E402

from esergui.app.library.trends_dialog import TrendsDialog  # noqa: E402
from esergui.app.shell.main import configure_app  # noqa: E402
from esergui.app.shell.window import MainWindow  # noqa: E402
from esergui.review.adapters import summary_rows  # noqa: E402
from esergui.review.trends import date_in_name  # noqa: E402
from tests.app_support import wait_until  # noqa: E402

torch.set_num_threads(1)
DATES = ("2026-03-02", "2026-03-09")


@pytest.fixture(scope="module")
def workspace_folder(tmp_path_factory, emodb) -> Path:
    """Two 20-second lessons of EmoDB speech, named with their dates, analysed."""
    from bench.trends_screenshot import analysed_workspace

    return analysed_workspace(tmp_path_factory.mktemp("trends"), DATES)


def test_date_in_name():
    assert date_in_name("2026-03-14 maths") == "2026-03-14"
    assert date_in_name("class7_20260314.wav") == "2026-03-14"
    assert date_in_name("lesson 2026-02-30") is None  # not a date
    assert date_in_name("room 12345678") is None


def test_trends_dialog_table_and_exports(qapp, tmp_path, workspace_folder):
    configure_app(qapp)
    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    try:
        assert win.open_workspace(workspace_folder)
        act = win.actions_["trends"]
        assert act in win.menu("tools").actions()
        act.trigger()
        dlg = win.findChild(TrendsDialog)
        assert dlg is not None
        wait_until(lambda: dlg.trends is not None)
        table = dlg.trends.table
        assert list(table["date"]) == list(DATES)
        assert list(table["lessons"]) == [1, 1]
        ws = win.workspace
        ids = sorted(lesson.id for lesson in ws.lessons())
        rows = summary_rows(ws, ids)  # the summary CSV's figures, unchanged
        for figure in ("teacher_talk_pct_speech", "student_turns_per_min"):
            assert table[figure].tolist() == pytest.approx([r[figure] for r in rows], nan_ok=True)
        assert dlg.model.rowCount() == 2
        csv = pd.read_csv(dlg.export_csv(tmp_path / "out" / "trends.csv"))
        assert list(csv["date"]) == list(DATES) and "teacher" in csv.columns
        png = dlg.export_png(tmp_path / "out" / "trends.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        dlg.group.setCurrentIndex(dlg.group.findData("all"))
        wait_until(lambda: dlg.trends is not None and dlg.trends.by == "all")
        assert dlg.trends.table["all"].tolist() == ["all lessons", "all lessons"]
        dlg.close()
    finally:
        win.close()
