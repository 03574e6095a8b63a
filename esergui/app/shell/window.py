"""The main window: a shell that lays out the views and docks and composes the controllers
that do the work.

Layout: the central area stacks the overview over the detail view (a welcome page before a
lesson is open); docks hold the library (left), the analysis panel (left), the utterance table
(bottom) and the summary (right). The controllers, each with its own state:
:attr:`MainWindow.workspaces` (:class:`~esergui.app.shell.workspace.WorkspaceController`),
:attr:`~MainWindow.lessons` (:class:`~esergui.app.shell.lessons.LessonController`),
:attr:`~MainWindow.analysis_jobs` (:class:`~esergui.app.shell.analysis.AnalysisController`),
:attr:`~MainWindow.playback` (:class:`~esergui.app.playback.controller.PlaybackController`),
:attr:`~MainWindow.exports` (:class:`~esergui.app.shell.exports.ExportController`) and
:attr:`~MainWindow.status` (:class:`~esergui.app.shell.status.DeviceStatus`).
Extension points for other parts of the app: :attr:`MainWindow.undo_stack`,
:attr:`MainWindow.selection`, :meth:`MainWindow.add_dock`, :meth:`MainWindow.menu` and
:meth:`MainWindow.reload_current_lesson` (see ``docs/APP.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QToolBar,
    QWidget,
)

from esergui.app.annotation.install import install_annotation
from esergui.app.common import workers
from esergui.app.common.icons import icon
from esergui.app.common.workers import JobQueue
from esergui.app.library.analysis_panel import AnalysisPanel
from esergui.app.library.lessons import LessonLibrary, audio_paths
from esergui.app.library.trends_dialog import install as install_trends
from esergui.app.playback.controller import PlaybackController
from esergui.app.playback.player import Player, StreamFactory
from esergui.app.recording.panel import RecordingPanel
from esergui.app.retrain.wizard import install as install_retraining
from esergui.app.shell.actions import build_actions
from esergui.app.shell.analysis import AnalysisController
from esergui.app.shell.demo import open_demo
from esergui.app.shell.dialogs import AboutDialog, SettingsDialog, ShortcutsDialog
from esergui.app.shell.exports import ExportController
from esergui.app.shell.fit import available_geometry, default_geometry, fit_window
from esergui.app.shell.lessons import LessonController
from esergui.app.shell.notices import ErrorReporter
from esergui.app.shell.selection import SelectionModel
from esergui.app.shell.status import DeviceStatus
from esergui.app.shell.welcome import welcome_page
from esergui.app.shell.workspace import WorkspaceController
from esergui.app.summary.panel import SummaryPanel
from esergui.app.timeline.detail import DetailView
from esergui.app.timeline.overview import OverviewTimeline
from esergui.app.timeline.table import UtteranceTable
from esergui.lesson import Utterance
from esergui.review.lessondata import LessonData
from esergui.workspace import Workspace

if TYPE_CHECKING:
    from esergui.app.annotation.controller import AnnotationController
    from esergui.app.retrain.models_dialog import ModelsDialog
    from esergui.app.retrain.wizard import RetrainWizard

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """ESER Studio's window. ``settings`` defaults to the user's QSettings; tests pass an ini
    file. ``stream_factory`` makes the playback output stream (default: sounddevice)."""

    workspaceOpened = Signal(object)  # Workspace
    lessonLoaded = Signal(object)  # LessonData, each time the current lesson is (re)loaded
    analysisFinished = Signal(int, str)  # lesson id, "done" / "failed" / "cancelled"

    def __init__(
        self,
        settings: QSettings | None = None,
        stream_factory: StreamFactory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or QSettings()
        self.workspace: Workspace | None = None
        self.current_id: int | None = None
        self.selection = SelectionModel(self)
        self.undo_stack = QUndoStack(self)
        self.errors = ErrorReporter(self)
        self.queue = JobQueue(self)
        self.player = Player(
            stream_factory, device=str(self.settings.value("playback/device", "") or "") or None, parent=self
        )
        self.actions_: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.toolbar: QToolBar | None = None  # made by build_actions
        self.recorder: RecordingPanel | None = None  # the Record panel, made on first use
        self.retrain_wizard: RetrainWizard | None = None  # the open retraining wizard (Tools menu)
        self.models_dialog: ModelsDialog | None = None  # the open Models dialog (Tools menu)

        self.setWindowTitle("ESER Studio")
        self.setWindowIcon(icon("eser-studio"))
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.overview = OverviewTimeline()
        self.detail = DetailView()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.overview)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setChildrenCollapsible(False)
        self._welcome_add = QPushButton(icon("add-lesson"), "Add Lessons…")  # enabled with a workspace
        self.placeholder = welcome_page(self, self._welcome_add)
        self.central = QStackedWidget()
        self.central.addWidget(self.placeholder)
        self.central.addWidget(self.splitter)
        self.setCentralWidget(self.central)

        self.library = LessonLibrary()
        self.analysis = AnalysisPanel()
        self.table = UtteranceTable()
        self.summary = SummaryPanel()
        self.add_dock(self.library, "Lessons", Qt.DockWidgetArea.LeftDockWidgetArea, "library")
        self.add_dock(self.analysis, "Analysis", Qt.DockWidgetArea.LeftDockWidgetArea, "analysis")
        self.add_dock(self.table, "Utterances", Qt.DockWidgetArea.BottomDockWidgetArea, "utterances")
        self.add_dock(self.summary, "Summary", Qt.DockWidgetArea.RightDockWidgetArea, "summary")
        self._default_dock_sizes()
        self.table.set_lesson(LessonData.empty())

        self.status = DeviceStatus(self)
        self.workspaces = WorkspaceController(self)
        self.lessons = LessonController(self)
        self.analysis_jobs = AnalysisController(self, self.analysis)
        self.playback = PlaybackController(self, self.player)
        self.exports = ExportController(self)
        build_actions(self)
        self._connect()
        self._restore_settings()
        self.update_actions()
        self.status.probe_device()
        self.annotation: AnnotationController = install_annotation(self)
        install_retraining(self)
        install_trends(self)
        fit_window(self)  # the docks restored after the geometry may have grown the window
        if self.settings.value("window/state") is None:  # first start: sizes once the docks are laid out
            QTimer.singleShot(0, self._default_dock_sizes)

    # ================================================================ building
    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        QTimer.singleShot(0, self._hide_stale_tab_bars)
        QTimer.singleShot(0, lambda: fit_window(self))  # on the screen it is shown on, laid out

    def _hide_stale_tab_bars(self) -> None:
        """Work around Qt leaving the tab bars of dock groups visible after docks are tabified
        before the window is shown: a live tab bar sits right under its group's current dock;
        any other is a leftover and is hidden."""
        by_title = {d.windowTitle(): d for d in self.findChildren(QDockWidget)}
        for bar in self.findChildren(QTabBar):
            if bar.parent() is not self or not bar.isVisible():
                continue
            dock = by_title.get(bar.tabText(bar.currentIndex()))
            if dock is None or dock.isFloating():
                continue
            g = dock.geometry()
            if abs(bar.y() - (g.y() + g.height())) > 3 and abs(bar.y() + bar.height() - g.y()) > 3:
                bar.hide()

    def _default_dock_sizes(self) -> None:
        self.resizeDocks([self.docks["library"], self.docks["summary"]], [340, 340], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["utterances"]], [230], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["library"], self.docks["analysis"]], [400, 300], Qt.Orientation.Vertical)
        QTimer.singleShot(0, self._hide_stale_tab_bars)

    def open_demo(self) -> None:
        open_demo(self)

    def add_dock(self, widget: QWidget, title: str, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        """Add a dock panel (its toggle goes into View > Panels); ``name`` keys it in
        :attr:`docks` and in the saved layout."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        panels = self.menus.get("panels")
        if panels is not None:
            panels.addAction(dock.toggleViewAction())
        return dock

    def menu(self, name: str) -> QMenu:
        """A top-level menu by name: ``file``, ``edit``, ``view``, ``analysis``, ``playback``,
        ``tools``, ``help`` (or ``panels``, the View submenu of docks)."""
        return self.menus[name]

    def action(self, name: str) -> QAction:
        return self.actions_[name]

    def _connect(self) -> None:
        lib = self.library
        lib.lessonOpened.connect(self.lessons.open_lesson)
        lib.renameRequested.connect(self.workspaces.rename_lesson)
        lib.removeRequested.connect(self.workspaces.remove_lessons)
        lib.analyseRequested.connect(self.analysis_jobs.analyse)
        self.overview.regionChanged.connect(self.detail.set_range)
        self.overview.timeClicked.connect(self.lessons.centre_on)
        self.detail.rangeChanged.connect(self.lessons.on_detail_range)
        self.detail.cursorMoved.connect(lambda t: self.lessons.update_time_label())
        self.overview.utteranceClicked.connect(lambda row: self.selection.select_rows([row], self.overview))
        self.detail.utteranceClicked.connect(lambda row: self.selection.select_rows([row], self.detail))
        self.detail.utteranceActivated.connect(self.playback.play_row)
        self.table.rowsSelected.connect(lambda rows: self.selection.select_rows(rows, self.table))
        self.table.rowActivated.connect(self.playback.play_row)

    # ================================================================ settings
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            fit_window(self)  # saved on a bigger screen, or grown past this one
        else:
            self.setGeometry(default_geometry(available_geometry(self)))
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        mode = str(self.settings.value("view/laneMode", "role"))
        self.action("lanes_by_speaker").setChecked(mode == "speaker")
        self.set_lane_mode(mode)

    def save_settings(self) -> None:
        self.lessons.save_view()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("view/laneMode", self.overview.lane_mode)
        if self.workspace is not None:
            self.settings.setValue("workspace/last", str(self.workspace.folder))
        self.settings.sync()

    # ============================================================ the window's API
    # What other parts of the app, tests and benchmarks call; each hands over to a controller.
    @property
    def lesson_data(self) -> LessonData:
        """The current lesson as shown (:attr:`SelectionModel.lesson`)."""
        return self.selection.lesson

    def require_workspace(self) -> Workspace:
        """The open workspace, for code that runs only while one is open (a lesson is shown)."""
        assert self.workspace is not None, "no workspace is open"
        return self.workspace

    @property
    def compute_device(self) -> str:
        return self.status.compute_device

    def set_compute_device(self, device: str) -> None:
        self.status.set_compute_device(device)

    def refresh_model_status(self) -> None:
        """Re-read the active model and compute device into the status bar."""
        self.status.probe_device()

    def open_workspace(self, folder: str | Path) -> bool:
        return self.workspaces.open_workspace(folder)

    def close_workspace(self) -> None:
        self.workspaces.close_workspace()

    def refresh_library(self) -> None:
        self.workspaces.refresh_library()

    def add_files(self, paths: list[str], analyse: bool | None = None, open_first: bool = True) -> None:
        self.workspaces.add_files(paths, analyse, open_first)

    def remove_lessons(self, ids: list[int], confirm: bool = True) -> None:
        self.workspaces.remove_lessons(ids, confirm)

    def show_recorder(self) -> RecordingPanel | None:
        return self.workspaces.show_recorder()

    def open_lesson(self, lesson_id: int) -> None:
        self.lessons.open_lesson(lesson_id)

    def reload_current_lesson(self, keep_view: bool = True) -> None:
        """Re-read the current lesson from the workspace (after an edit or new results), keeping
        the audio, the visible range and the selection. Call it after changing the store."""
        self.lessons.reload_current_lesson(keep_view)

    def relabel_current_lesson(self, records: Sequence[Utterance]) -> bool:
        """Show new labels, roles or speakers of ``records`` in place (see
        :meth:`LessonController.relabel_current_lesson`); False: call :meth:`reload_current_lesson`."""
        return self.lessons.relabel_current_lesson(records)

    def set_lane_mode(self, mode: str) -> None:
        self.lessons.set_lane_mode(mode)

    def analyse(self, ids: list[int] | None = None) -> None:
        """Queue the analysis of ``ids`` (default: the selected lessons, else the current one)."""
        self.analysis_jobs.analyse(ids)

    def cancel_analysis(self) -> None:
        self.analysis_jobs.cancel_analysis()

    def export_csv(self, folder: str | None = None, ids: list[int] | None = None) -> list[Path]:
        return self.exports.export_csv(folder, ids)

    def export_summary(self, path: str | None = None, ids: list[int] | None = None) -> Path | None:
        return self.exports.export_summary(path, ids)

    def export_png(self, path: str | None = None) -> Path | None:
        return self.exports.export_png(path)

    # ================================================================== dialogs
    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.menuBar(), self.findChildren(QAction), self)
        dialog.open()
        return dialog

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.status.model_text, self.status.device_text, self)
        dialog.open()
        return dialog

    def show_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.compute_device, self, output=str(self.settings.value("playback/device", "") or ""))

        def apply() -> None:
            self.set_compute_device(dialog.device())
            self.playback.set_output_device(dialog.output())

        dialog.accepted.connect(apply)
        dialog.open()
        return dialog

    # ============================================================== state
    def update_actions(self) -> None:
        """Enable the actions that make sense now (workspace, lesson, audio, playing)."""
        has_ws = self.workspace is not None
        has_lesson = self.current_id is not None
        has_audio = self.lesson_data.source is not None
        a = self.actions_
        for name in ("add_lessons", "analyse", "export_csv", "export_summary"):
            a[name].setEnabled(has_ws and (name == "add_lessons" or has_lesson or bool(self.library.selected_ids())))
        a["rename"].setEnabled(has_ws and (has_lesson or bool(self.library.selected_ids())))
        a["locate_audio"].setEnabled(a["rename"].isEnabled())
        a["remove"].setEnabled(has_ws and bool(self.library.selected_ids() or has_lesson))
        a["cancel"].setEnabled(self.queue.is_busy())
        a["export_png"].setEnabled(has_lesson)
        a["report"].setEnabled(has_lesson)
        a["export_figure"].setEnabled(has_lesson)
        a["record"].setEnabled(has_ws)
        self._welcome_add.setEnabled(has_ws)
        playing = self.player.playing
        a["play"].setEnabled(has_audio or playing)
        a["play"].setIcon(icon("stop" if playing else "play"))
        a["play"].setText("Stop" if playing else "Play / Stop")
        for name in ("play_visible", "play_cursor"):
            a[name].setEnabled(has_audio)
        annotation = getattr(self, "annotation", None)  # installed after the first update_actions
        marked = annotation.marked_range if annotation is not None else None
        a["play_selection"].setEnabled(has_audio and (bool(self.selection.ids) or marked is not None))

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt API)
        paths = audio_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.workspaces.add_files(paths)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop playback, recording and every background job, close the workspace (idempotent)."""
        self.player.stop()
        if self.recorder is not None:
            self.recorder.shutdown()  # a running recording is kept
        self.detail.shutdown()
        mine = [r for r in list(workers.running_runners()) if r.parent() is self]
        for runner in mine:
            runner.cancel()
        for runner in mine:
            # loading the model cannot be interrupted; it takes seconds, not minutes
            runner.wait(60000)
        self.workspaces.close_workspace()
