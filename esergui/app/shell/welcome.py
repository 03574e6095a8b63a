"""The welcome page: what the central area shows before a lesson is open (what to do, with
buttons to open or create a workspace, add lessons and open the demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from esergui.app.common.icons import icon

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow


def welcome_page(win: MainWindow, add_button: QPushButton) -> QWidget:
    """The page, with ``add_button`` (Add Lessons, enabled while a workspace is open) among its buttons."""
    page = QWidget()
    text = QLabel(
        "<h2>ESER Studio</h2><p>Who spoke, when, and with which emotion — in recorded lessons.</p>"
        "<p>Open or create a workspace (a folder for your lessons), then add lesson recordings:<br>"
        "File ▸ Add Lessons, or drop audio files on this window.</p>"
    )
    text.setAlignment(Qt.AlignmentFlag.AlignCenter)
    text.setTextFormat(Qt.TextFormat.RichText)
    text.setStyleSheet("color: #444444;")
    buttons = QHBoxLayout()
    buttons.addStretch(1)
    for label, tip, slot, icon_name in (
        ("Open Workspace…", "Open a workspace folder", lambda: win.workspaces.choose_workspace(), "open-workspace"),
        (
            "New Workspace…",
            "Create a workspace in an empty folder",
            lambda: win.workspaces.choose_workspace(create=True),
            "new-workspace",
        ),
        ("Add Lessons…", "Add audio files to the open workspace", lambda: win.workspaces.choose_files(), "add-lesson"),
        (
            "Open the Demo Lesson",
            "Open the bundled demo lesson in the demo workspace (analysed on first use)",
            win.open_demo,
            "analyse",
        ),
    ):
        button = add_button if label.startswith("Add") else QPushButton(icon(icon_name), label)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        buttons.addWidget(button)
    buttons.addStretch(1)
    lay = QVBoxLayout(page)
    lay.addStretch(2)
    lay.addWidget(text)
    lay.addSpacing(12)
    lay.addLayout(buttons)
    lay.addStretch(3)
    return page
