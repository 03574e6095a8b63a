"""Wiring annotation into the main window: :func:`install_annotation` adds the Annotate menu,
keys, context menus, the annotation/speakers/compare/history docks and timeline editing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QInputDialog, QMenu

from esergui.app.annotation.agreement_dialog import run_agreement
from esergui.app.annotation.compare import ComparePanel
from esergui.app.annotation.controller import AnnotationController
from esergui.app.annotation.delegates import install_delegates
from esergui.app.annotation.editor import TimelineEditor
from esergui.app.annotation.panel import AnnotationPanel
from esergui.app.annotation.speakers import SpeakersPanel
from esergui.app.annotation.undo import UndoHistory

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow
    from esergui.workspace import Workspace

ANNOTATOR_KEY = "annotation/annotator"


class _OnFirstShow(QObject):
    """Runs ``action`` shortly after ``widget`` is first shown (layouts are in place by then)."""

    def __init__(self, widget: QObject, action: Callable[[], None]) -> None:
        super().__init__(widget)
        self.action = action
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Show:
            obj.removeEventFilter(self)
            QTimer.singleShot(50, self.action)
        return False


def install_annotation(window: MainWindow) -> AnnotationController:
    """Add annotation to the main window; returns the controller (also ``window.annotation``)."""
    c = AnnotationController(window)
    c.menus.make_actions()

    # ---- menus
    menu = QMenu("A&nnotate", window)
    menu.setToolTipsVisible(True)

    def refill_menu() -> None:
        menu.clear()
        c.menus.fill_menu(menu)

    menu.aboutToShow.connect(refill_menu)
    c.menus.fill_menu(menu)
    tools = window.menu("tools")
    window.menuBar().insertMenu(tools.menuAction(), menu)
    window.menus["annotate"] = menu
    agree = tools.addAction("Inter-annotator &Agreement…", lambda: run_agreement(c))
    agree.setToolTip("Compare this lesson's labels with another annotator's workspace or CSV (Cohen's kappa)")
    tools.addAction(c.menus.actions["codes"])
    who = tools.addAction("Annotator &Name…", lambda: ask_annotator(window, c))
    who.setToolTip("The name stored with every edit you make (who/when)")
    window.addAction(c.menus.actions["jump"])

    # ---- keys where the utterances are
    c.menus.attach_keys([window.table.view, window.detail, window.overview])

    # ---- table: who set each label, context menu
    c.delegates = install_delegates(window.table, c.record)
    view = window.table.view
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    view.customContextMenuRequested.connect(lambda pos: c.menus.context_menu(view.viewport().mapToGlobal(pos)))
    c.edited.connect(view.viewport().update)

    # ---- timelines
    c.timeline = TimelineEditor(c, window.detail, window.overview)

    # ---- docks
    c.panel = AnnotationPanel(c)
    c.speakers_panel = SpeakersPanel(c)
    c.compare_panel = ComparePanel(c)
    c.history = UndoHistory(c.stack)
    right, left = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
    c.docks = {
        "annotation": window.add_dock(c.panel, "Annotation", right, "annotation"),
        "speakers": window.add_dock(c.speakers_panel, "Speakers", left, "speakers"),
        "compare": window.add_dock(c.compare_panel, "Model vs Human", left, "compare"),
        "history": window.add_dock(c.history, "Undo History", left, "undo_history"),
    }
    c.docks["compare"].visibilityChanged.connect(c.compare_panel.set_shown)
    c.docks["speakers"].visibilityChanged.connect(c.speakers_panel.set_shown)
    docks = window.docks
    window.tabifyDockWidget(docks["summary"], c.docks["annotation"])
    window.tabifyDockWidget(docks["analysis"], c.docks["speakers"])
    window.tabifyDockWidget(c.docks["speakers"], c.docks["compare"])
    docks["analysis"].raise_()
    window.tabifyDockWidget(docks["library"], c.docks["history"])
    docks["library"].raise_()
    docks["summary"].raise_()  # the lesson's result in front
    state = window.settings.value("window/state")
    if state is not None:
        window.restoreState(state)  # the annotation docks where the user left them
    else:
        window.restoreState(window.saveState())  # drops the tab bars left over from tabifying one by one
        # room for the panel and both tab titles, once the window is on screen with its size
        c._first_show = _OnFirstShow(
            window, lambda: window.resizeDocks([c.docks["annotation"]], [430], Qt.Orientation.Horizontal)
        )

    # ---- messages, annotator, re-analysis
    c.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
    c.rangeMarked.connect(lambda _range: window.update_actions())  # Play Selection plays a marked range

    def show_disagreements(lesson_id: int, n: int) -> None:
        if n:
            c.docks["compare"].raise_()

    c.reanalysed.connect(show_disagreements)
    window.workspaceOpened.connect(lambda ws: apply_annotator(window, ws))
    if window.workspace is not None:
        apply_annotator(window, window.workspace)
    window.annotation = c
    return c


def apply_annotator(window: MainWindow, ws: Workspace) -> None:
    """Edits are stamped with the annotator name chosen in this app (default: the login)."""
    name = str(window.settings.value(ANNOTATOR_KEY, "") or "")
    if ws is not None and name.strip():
        ws.user = name.strip()


def ask_annotator(window: MainWindow, c: AnnotationController) -> None:
    ws = window.workspace
    current = ws.user if ws is not None else ""
    name, ok = QInputDialog.getText(
        window, "Annotator name", "Your name, stored with every edit you make:", text=current
    )
    if ok and name.strip():
        window.settings.setValue(ANNOTATOR_KEY, name.strip())
        if ws is not None:
            ws.user = name.strip()
        c.message.emit(f"Edits are now stored as made by {name.strip()}")
