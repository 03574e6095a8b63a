"""Menus, toolbar and keyboard shortcuts of the main window (every action has a tooltip)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QToolBar, QWidget

from esergui.app.common.icons import icon
from esergui.app.shell.dialogs import DEVICES
from esergui.app.shell.file_menu import build_file_menu

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow


def _act(
    win: MainWindow,
    name: str,
    text: str,
    tip: str,
    slot: Callable | None = None,
    keys=(),
    icon_name: str = "",
    checkable: bool = False,
) -> QAction:
    action = QAction(text, win)
    action.setObjectName(f"action_{name}")
    keys = [keys] if isinstance(keys, (str, QKeySequence.StandardKey)) else list(keys)
    shortcuts = [QKeySequence(k) for k in keys]
    if shortcuts:
        action.setShortcuts(shortcuts)
        tip += f" ({' / '.join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts)})"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    if icon_name:
        action.setIcon(icon(icon_name))
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(lambda checked=False: slot(checked) if checkable else slot())
    win.addAction(action)  # shortcuts work wherever the focus is
    win.actions_[name] = action
    return action


TEXT_EDITORS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)


class TextFocusGuard(QObject):
    """Takes an action's window-wide shortcuts away while a text editor has the keyboard focus
    (and gives them back when it leaves), so e.g. Esc reaches the annotation note field instead
    of cancelling the running analysis. A child of the action: disconnects when it goes."""

    def __init__(self, action: QAction) -> None:
        super().__init__(action)
        self.action = action
        self.keys = list(action.shortcuts())
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self.on_focus)
            self.on_focus(None, app.focusWidget())

    @Slot(QWidget, QWidget)
    def on_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        self.action.setShortcuts([] if isinstance(new, TEXT_EDITORS) else self.keys)


def build_actions(win: MainWindow) -> None:
    mb = win.menuBar()
    d = win.detail
    a = lambda *args, **kw: _act(win, *args, **kw)  # noqa: E731

    build_file_menu(win, a)

    # ---------------------------------------------------------------- Edit
    m = mb.addMenu("&Edit")
    win.menus["edit"] = m
    undo = win.undo_stack.createUndoAction(win, "&Undo")
    undo.setShortcuts(QKeySequence.StandardKey.Undo)
    undo.setToolTip("Undo the last change to annotations")
    redo = win.undo_stack.createRedoAction(win, "&Redo")
    redo.setShortcuts(QKeySequence.StandardKey.Redo)
    redo.setToolTip("Redo the change just undone")
    for name, act in (("undo", undo), ("redo", redo)):
        act.setObjectName(f"action_{name}")
        win.actions_[name] = act
        m.addAction(act)
    m.addSeparator()
    m.addAction(a("rename", "Re&name Lesson…", "Rename the selected lesson", win.workspaces.rename_current, "F2"))
    m.addAction(
        a(
            "locate_audio",
            "&Locate Audio…",
            "Point a lesson whose audio file moved at its new place (its content is checked)",
            lambda: win.workspaces.locate_audio(),
        )
    )
    m.addAction(
        a(
            "remove",
            "Re&move Lesson(s)…",
            "Remove the selected lessons from the workspace (audio files are kept)",
            lambda: win.workspaces.remove_lessons(
                win.library.selected_ids() or ([win.current_id] if win.current_id is not None else [])
            ),
        )
    )

    # ---------------------------------------------------------------- View
    m = mb.addMenu("&View")
    win.menus["view"] = m
    m.addAction(
        a("zoom_in", "Zoom &In", "Show less time, in more detail", lambda: d.zoom(0.5), ("Ctrl+=", "Ctrl++"), "zoom-in")
    )
    m.addAction(a("zoom_out", "Zoom &Out", "Show more time", lambda: d.zoom(2.0), "Ctrl+-", "zoom-out"))
    m.addAction(
        a("zoom_all", "&Whole Lesson", "Show the whole lesson in the detail view", d.show_all, "Ctrl+0", "zoom-fit")
    )

    def zoom_to_selection() -> None:
        span = win.playback.selection_range()
        if span:
            d.zoom_to(*span)

    m.addAction(
        a(
            "zoom_selection",
            "Zoom to &Selection",
            "Show just the marked range (Shift+drag) or the selected utterances",
            zoom_to_selection,
            "Ctrl+Shift+F",
        )
    )
    m.addAction(
        a("scroll_left", "Scroll &Back", "Scroll to earlier in the lesson", lambda: d.scroll(-0.5), "Ctrl+Left")
    )
    m.addAction(
        a("scroll_right", "Scroll &Forward", "Scroll to later in the lesson", lambda: d.scroll(0.5), "Ctrl+Right")
    )
    m.addSeparator()
    lanes = a(
        "lanes_by_speaker",
        "Lanes per &Speaker",
        "One timeline lane per speaker instead of per role (teacher / students)",
        lambda on: win.set_lane_mode("speaker" if on else "role"),
        "Ctrl+L",
        "lanes",
        checkable=True,
    )
    m.addAction(lanes)
    m.addSeparator()
    win.menus["panels"] = m.addMenu("&Panels")
    for dock in win.docks.values():
        win.menus["panels"].addAction(dock.toggleViewAction())

    # ------------------------------------------------------------ Analysis
    m = mb.addMenu("&Analysis")
    win.menus["analysis"] = m
    m.addAction(
        a(
            "analyse",
            "&Analyse Lesson(s)",
            "Analyse the selected lessons (or the current one); they queue",
            lambda: win.analysis_jobs.analyse(),
            "Ctrl+R",
            "analyse",
        )
    )
    m.addAction(
        a("cancel", "&Cancel Analysis", "Stop the running analysis", win.analysis_jobs.cancel_analysis, "Esc", "cancel")
    )
    TextFocusGuard(win.actions_["cancel"])  # Esc in a text field belongs to that field
    m.addSeparator()
    dev = m.addMenu("Compute &Device")
    win.menus["device"] = dev
    group = QActionGroup(win)
    for key, text in DEVICES:
        act = dev.addAction(text)
        act.setCheckable(True)
        act.setData(key)
        act.setChecked(key == win.compute_device)
        act.triggered.connect(lambda checked=False, k=key: win.set_compute_device(k))
        group.addAction(act)
    m.addAction(
        a("settings", "&Settings…", "Compute device and other settings", win.show_settings, "Ctrl+,", "settings")
    )

    # ------------------------------------------------------------ Playback
    m = mb.addMenu("&Playback")
    win.menus["playback"] = m
    m.addAction(
        a(
            "play",
            "Play / Stop",
            "Play the selected utterance (or from the cursor); stop if playing",
            win.playback.toggle_play,
            "Space",
            "play",
        )
    )
    m.addAction(
        a(
            "play_selection",
            "Play &Selection",
            "Play the selected utterances",
            win.playback.play_selection,
            "Ctrl+Return",
        )
    )
    m.addAction(
        a(
            "play_visible",
            "Play &Visible Range",
            "Play what the detail view shows",
            win.playback.play_visible,
            "Shift+Space",
        )
    )
    m.addAction(
        a(
            "play_cursor",
            "Play from &Cursor",
            "Play from the cursor to the end of the lesson",
            win.playback.play_from_cursor,
            "Ctrl+Space",
        )
    )
    m.addAction(
        a(
            "loop",
            "&Loop Selection",
            "Play the marked range or the selected utterances again and again (Stop ends it)",
            win.playback.set_loop,
            "Ctrl+Shift+Space",
            checkable=True,
        )
    )
    speed = m.addMenu("Playback Spee&d")
    win.menus["speed"] = speed
    speeds = QActionGroup(win)
    for value in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0):
        act = speed.addAction(f"{value:g}×" + ("  (normal)" if value == 1 else ""))
        act.setCheckable(True)
        act.setChecked(abs(win.player.speed - value) < 1e-6)
        act.setToolTip(f"Play at {value:g} times normal speed, pitch kept")
        act.triggered.connect(lambda checked=False, v=value: win.playback.set_speed(v))
        speeds.addAction(act)

    # --------------------------------------------------------------- Tools
    win.menus["tools"] = mb.addMenu("&Tools")
    win.menus["tools"].setToolTipsVisible(True)

    # ---------------------------------------------------------------- Help
    m = mb.addMenu("&Help")
    win.menus["help"] = m
    m.addAction(
        a(
            "shortcuts",
            "&Keyboard Shortcuts",
            "List every keyboard shortcut and mouse gesture",
            win.show_shortcuts,
            QKeySequence.StandardKey.HelpContents,
            "help",
        )
    )
    m.addAction(a("about", "&About ESER Studio", "Version, emotion model and compute device", win.show_about))
    for menu in win.menus.values():
        menu.setToolTipsVisible(True)

    # ------------------------------------------------------------- toolbar
    tb = QToolBar("Main toolbar")
    tb.setObjectName("toolbar_main")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    tb.setMovable(False)
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    win.toolbar = tb
    for tool in (
        "open_workspace",
        "add_lessons",
        "record",
        None,
        "analyse",
        "cancel",
        None,
        "play",
        None,
        "zoom_in",
        "zoom_out",
        "zoom_all",
        "lanes_by_speaker",
        None,
        "export_csv",
        "export_png",
        None,
        "shortcuts",
    ):
        if tool is None:
            tb.addSeparator()
        else:
            tb.addAction(win.actions_[tool])
