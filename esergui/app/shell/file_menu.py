"""The File menu of the main window: workspaces, lessons, recording, export and import."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from esergui.app.shell import reports

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow


def build_file_menu(win: MainWindow, a: Callable[..., QAction]) -> None:
    """Fill the menu bar's File menu (``win.menus["file"]``, ``["recent"]``, ``["export"]``);
    ``a`` makes a named action with its tooltip and shortcuts (``actions._act``)."""
    mb = win.menuBar()
    m = mb.addMenu("&File")
    win.menus["file"] = m
    m.addAction(
        a(
            "new_workspace",
            "&New Workspace…",
            "Create a workspace in an empty folder",
            lambda: win.workspaces.choose_workspace(create=True),
            QKeySequence.StandardKey.New,
            "new-workspace",
        )
    )
    m.addAction(
        a(
            "open_workspace",
            "&Open Workspace…",
            "Open a workspace folder",
            win.workspaces.choose_workspace,
            "Ctrl+Shift+O",
            "open-workspace",
        )
    )
    win.menus["recent"] = m.addMenu("Open &Recent")
    win.menus["recent"].setToolTipsVisible(True)
    win.workspaces.fill_recent_menu()
    m.addSeparator()
    m.addAction(
        a(
            "add_lessons",
            "&Add Lessons…",
            "Add audio files to the workspace as lessons (they are analysed)",
            win.workspaces.choose_files,
            QKeySequence.StandardKey.Open,
            "add-lesson",
        )
    )
    m.addAction(
        a(
            "record",
            "&Record a Lesson…",
            "Record a lesson from a microphone into the workspace (it is analysed when you stop)",
            win.workspaces.show_recorder,
            "Ctrl+Shift+R",
            "record",
        )
    )
    m.addSeparator()
    ex = m.addMenu("&Export")
    win.menus["export"] = ex
    ex.addAction(
        a(
            "export_csv",
            "Lesson &CSV Files…",
            "Write utterances, summary and 5-minute CSVs of the current or selected lessons to a folder",
            lambda: win.exports.export_csv(),
            "Ctrl+E",
            "export-csv",
        )
    )
    ex.addAction(
        a(
            "export_summary",
            "&Summary CSV (one row per lesson)…",
            "One summary CSV of the selected lessons",
            lambda: win.exports.export_summary(),
            "Ctrl+Shift+E",
        )
    )
    ex.addAction(
        a(
            "export_png",
            "Timeline and Summary &PNG…",
            "Save the timelines and summary plots as a PNG image",
            lambda: win.exports.export_png(),
            "Ctrl+Shift+P",
            "export-png",
        )
    )
    ex.addAction(
        a(
            "export_figure",
            "&Figure for a Paper…",
            "The emotion timeline of the current lesson as a PDF, SVG "
            "or PNG figure with a title, a chosen size and resolution, whole or in part",
            lambda: reports.export_paper_figure(win),
        )
    )
    ex.addSeparator()  # researchers' formats (esergui.formats; docs/FORMATS.md)
    for fmt, text, tip in (
        ("eaf", "&ELAN (.eaf)…", "ELAN 3.0 files with speaker, role, emotion, codes and notes tiers"),
        ("textgrid", "Praat &TextGrid…", "Praat TextGrids with speaker, role, emotion, codes and notes tiers"),
        ("rttm", "&RTTM (who spoke when)…", "RTTM speaker turns, as diarisation tools read them"),
        ("audacity", "&Audacity Labels…", "Audacity label tracks: speaker | role | emotion"),
        ("json", "&JSON…", "Both layers of every utterance, for programs"),
    ):
        ex.addAction(
            a(
                f"export_{fmt}",
                text,
                tip + " (current or selected lessons)",
                lambda f=fmt: win.exports.export_formats([f]),
            )
        )
    ex.addSeparator()
    for key, text in (
        ("csv_bom", "CSV in UTF-8 with &BOM (Excel)"),
        ("csv_semicolon", "CSV with Semicolons and Decimal &Commas"),
    ):
        opt = a(
            key,
            text,
            "Spreadsheet option for the CSV exports",
            lambda on, k=key: win.settings.setValue(f"export/{k}", on),
            checkable=True,
        )
        opt.setChecked(str(win.settings.value(f"export/{key}", False)).lower() == "true")
        ex.addAction(opt)
    m.addAction(
        a(
            "report",
            "Lesson &Report…",
            "One page on the current lesson for a teacher (PDF or PNG): talk time, "
            "turns, wait time, emotions by role and the model's limits",
            lambda: reports.export_report(win),
            "Ctrl+Shift+T",
        )
    )
    m.addAction(
        a(
            "import_annotations",
            "&Import Annotations…",
            "Read ELAN, Praat, RTTM, Audacity or CSV annotations into the current lesson as its human labels",
            lambda: win.exports.import_annotations(),
        )
    )
    m.addSeparator()
    m.addAction(a("quit", "&Quit", "Close ESER Studio", win.close, QKeySequence.StandardKey.Quit))
