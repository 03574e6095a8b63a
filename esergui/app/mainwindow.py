"""The main window: lesson library, overview and detail timelines, utterance table, summary,
analysis queue, playback, exports.

Layout: the central area stacks the overview over the detail view; docks hold the library
(left), the analysis panel (left), the utterance table (bottom) and the summary (right).
Extension points for other parts of the app: :attr:`MainWindow.undo_stack`,
:attr:`MainWindow.selection`, :meth:`MainWindow.add_dock`, :meth:`MainWindow.menu` and
:meth:`MainWindow.reload_current_lesson` (see ``docs/APP.md``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QMainWindow, QMenu, QMessageBox,
    QPushButton, QSplitter, QStackedWidget, QTabBar, QVBoxLayout, QWidget,
)

from esergui.app import jobs, workers
from esergui.app.adapters import load_lesson_data, relabelled
from esergui.app.analysis_panel import AnalysisPanel
from esergui.app.detail import DetailView
from esergui.app.dialogs import AboutDialog, SettingsDialog, ShortcutsDialog
from esergui.app.exporting import export_lessons_csv, export_summary_csv, lesson_figure, save_image
from esergui.app.icons import icon
from esergui.app.lessondata import LessonData, LockedSource
from esergui.app.library import AUDIO_SUFFIXES, LessonLibrary, audio_paths
from esergui.app.notices import ErrorReporter
from esergui.app.overview import OverviewTimeline, utterance_tooltip
from esergui.app.playback import Player, StreamFactory
from esergui.app.selection import SelectionModel
from esergui.app.summary_panel import SummaryPanel
from esergui.app.table import UtteranceTable
from esergui.app.timeaxis import format_time
from esergui.app.waveform import Envelope
from esergui.app.workers import JobQueue, TaskRunner, one_line
from esergui.errors import USER_ERRORS
from esergui.lesson import LessonStatus, Utterance

log = logging.getLogger(__name__)
MAX_RECENT = 8


class MainWindow(QMainWindow):
    """ESER Studio's window. ``settings`` defaults to the user's QSettings; tests pass an ini
    file. ``stream_factory`` makes the playback output stream (default: sounddevice)."""

    workspaceOpened = Signal(object)  # Workspace
    lessonLoaded = Signal(object)  # LessonData, each time the current lesson is (re)loaded
    analysisFinished = Signal(int, str)  # lesson id, "done" / "failed" / "cancelled"

    def __init__(self, settings: QSettings | None = None, stream_factory: StreamFactory | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or QSettings()
        self.workspace: Any = None
        self.current_id: int | None = None
        self.selection = SelectionModel(self)
        self.undo_stack = QUndoStack(self)
        self.errors = ErrorReporter(self)
        self.queue = JobQueue(self)
        self.player = Player(stream_factory, device=str(self.settings.value("playback/device", "") or "") or None, parent=self)
        self.actions_: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._audio_runner: TaskRunner | None = None
        self._envelope_runner: TaskRunner | None = None
        self._probe_runner: TaskRunner | None = None
        self._add_runner: TaskRunner | None = None
        self.model_text = "ESERNet (bundled)"
        self._partials: dict[int, list] = {}  # lesson id -> utterances received so far
        self.recorder: Any = None  # esergui.app.recording.RecordingPanel, made on first use
        self.device_text = "detecting…"

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
        self.placeholder = self._welcome_page()
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
        self._build_status_bar()
        from esergui.app.actions import build_actions  # noqa: PLC0415 (keeps the module graph flat)

        build_actions(self)
        self._connect()
        self._restore_settings()
        self._update_actions()
        self._probe_device()
        from esergui.app.annotation import install_annotation  # noqa: PLC0415 (annotation issue: menus, keys, docks)

        self.annotation = install_annotation(self)
        from esergui.app.retrain_wizard import install as install_retraining  # noqa: PLC0415 (retraining issue: Tools menu)

        install_retraining(self)
        if self.settings.value("window/state") is None:  # first start: sizes once the docks are laid out
            QTimer.singleShot(0, self._default_dock_sizes)

    # ================================================================ building
    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        QTimer.singleShot(0, self._hide_stale_tab_bars)

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

    def _welcome_page(self) -> QWidget:
        """What the central area shows before a lesson is open: what to do, with buttons."""
        page = QWidget()
        text = QLabel(
            "<h2>ESER Studio</h2><p>Who spoke, when, and with which emotion — in recorded lessons.</p>"
            "<p>Open or create a workspace (a folder for your lessons), then add lesson recordings:<br>"
            "File ▸ Add Lessons, or drop audio files on this window.</p>")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setStyleSheet("color: #444444;")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for label, tip, slot, icon_name in (
            ("Open Workspace…", "Open a workspace folder", lambda: self.choose_workspace(), "open-workspace"),
            ("New Workspace…", "Create a workspace in an empty folder", lambda: self.choose_workspace(create=True), "new-workspace"),
            ("Add Lessons…", "Add audio files to the open workspace", lambda: self.choose_files(), "add-lesson"),
            ("Open the Demo Lesson", "Open the bundled demo lesson in the demo workspace (analysed on first use)", self.open_demo, "analyse"),
        ):
            button = QPushButton(icon(icon_name), label)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            if label.startswith("Add"):
                self._welcome_add = button
        buttons.addStretch(1)
        lay = QVBoxLayout(page)
        lay.addStretch(2)
        lay.addWidget(text)
        lay.addSpacing(12)
        lay.addLayout(buttons)
        lay.addStretch(3)
        return page

    def open_demo(self) -> None:
        from esergui.app.main import open_demo  # noqa: PLC0415 (main imports this module)

        open_demo(self)

    def add_dock(self, widget: QWidget, title: str, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        """Add a dock panel (its toggle goes into View > Panels); ``name`` keys it in
        :attr:`docks` and in the saved layout."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
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

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.time_label = QLabel("")
        self.time_label.setToolTip("Play cursor · visible range")
        self.device_label = QLabel("Device: detecting…")
        self.device_label.setToolTip("Where emotion recognition runs (Analysis > Settings to change)")
        self.model_label = QLabel(f"Model: {self.model_text}")
        self.model_label.setToolTip("The emotion model used for analysis")
        for w in (self.time_label, self.device_label, self.model_label):
            w.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(w)

    def _connect(self) -> None:
        lib = self.library
        lib.lessonOpened.connect(self.open_lesson)
        lib.renameRequested.connect(self.rename_lesson)
        lib.removeRequested.connect(self.remove_lessons)
        lib.analyseRequested.connect(self.analyse)
        self.overview.regionChanged.connect(self.detail.set_range)
        self.overview.timeClicked.connect(self._centre_on)
        self.detail.rangeChanged.connect(self._on_detail_range)
        self.detail.cursorMoved.connect(lambda t: self._update_time_label())
        self.overview.utteranceClicked.connect(lambda row: self.selection.select_rows([row], self.overview))
        self.detail.utteranceClicked.connect(lambda row: self.selection.select_rows([row], self.detail))
        self.detail.utteranceActivated.connect(self._play_row)
        self.table.rowsSelected.connect(lambda rows: self.selection.select_rows(rows, self.table))
        self.table.rowActivated.connect(self._play_row)
        self._summary_timer = QTimer(self)  # coalesces summary/curve redraws after quick edits
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(150)
        self._summary_timer.timeout.connect(self._refresh_summary)
        self.selection.lessonChanged.connect(self._show_lesson)
        self.selection.utterancesSelected.connect(self._on_selected)
        self.analysis.cancelRequested.connect(self.cancel_analysis)
        q = self.queue
        q.jobStarted.connect(self._on_job_started)
        q.jobProgress.connect(self._on_job_progress)
        q.jobPartial.connect(self._on_job_partial)
        q.jobSucceeded.connect(lambda key, res: self._on_job_end(key, "done", "", skipped=(res or {}).get("skipped", {})))
        q.jobFailed.connect(lambda key, reason, details: self._on_job_end(key, "failed", reason, details))
        q.jobCancelled.connect(lambda key: self._on_job_end(key, "cancelled", ""))
        q.queueChanged.connect(self._on_queue_changed)
        q.queueChanged.connect(self.refresh_library)
        self.player.positionChanged.connect(self._on_play_position)
        self.player.started.connect(self._update_actions)
        self.player.stopped.connect(self._on_play_stopped)
        self.player.unavailable.connect(self._on_audio_unavailable)

    # ================================================================ settings
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 940)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        mode = str(self.settings.value("view/laneMode", "role"))
        self.action("lanes_by_speaker").setChecked(mode == "speaker")
        self.set_lane_mode(mode)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("view/laneMode", self.overview.lane_mode)
        if self.workspace is not None:
            self.settings.setValue("workspace/last", str(self.workspace.folder))
        self.settings.sync()

    def recent_workspaces(self) -> list[str]:
        value = self.settings.value("workspace/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if v]

    def _remember_workspace(self, folder: str) -> None:
        recent = [folder] + [f for f in self.recent_workspaces() if f != folder]
        self.settings.setValue("workspace/recent", recent[:MAX_RECENT])
        self.settings.setValue("workspace/last", folder)
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self.menus.get("recent")
        if menu is None:
            return
        menu.clear()
        for folder in self.recent_workspaces():
            act = menu.addAction(folder, lambda f=folder: self.open_workspace(f))
            act.setToolTip(f"Open the workspace {folder}")
        menu.setEnabled(bool(self.recent_workspaces()))

    @property
    def compute_device(self) -> str:
        return str(self.settings.value("compute/device", "auto"))

    def set_compute_device(self, device: str) -> None:
        self.settings.setValue("compute/device", device)
        for act in self.menus["device"].actions():
            act.setChecked(act.data() == device)
        self._probe_device()

    # =============================================================== workspace
    def open_workspace(self, folder: str | Path) -> bool:
        """Open (creating if needed) the workspace in ``folder``; errors go to a dialog."""
        from esergui.workspace import Workspace

        try:
            ws = Workspace.open(folder)
        except USER_ERRORS as exc:
            self.errors.error("Cannot open workspace", one_line(exc))
            return False
        self.close_workspace()
        self.workspace = ws
        self._remember_workspace(str(ws.folder))
        self.setWindowTitle(f"ESER Studio — {ws.folder.name}")
        self.refresh_library()
        self._probe_device()  # the workspace may have another active model
        if self.recorder is not None:
            self.recorder.set_output_dir(ws.recordings_dir)
        QTimer.singleShot(0, lambda w=ws: self._recover_recordings(w))
        self.workspaceOpened.emit(ws)
        self._update_actions()
        self.statusBar().showMessage(f"Opened workspace {ws.folder}", 5000)
        return True

    def close_workspace(self) -> None:
        if self.workspace is None:
            return
        self.queue.cancel_all()
        self.queue.wait(5000)
        self.player.stop()
        self._cancel_runner("_audio_runner")
        self._cancel_runner("_envelope_runner")
        self.undo_stack.clear()
        self.current_id = None
        self.selection.set_lesson(LessonData.empty())
        self.workspace.close()
        self.workspace = None
        self.library.set_lessons([])

    def refresh_library(self) -> None:
        if self.workspace is None:
            return
        queued = set(self.queue.keys())
        self.library.set_lessons(self.workspace.lessons(), queued, self.current_id)

    def add_files(self, paths: list[str], analyse: bool | None = None, open_first: bool = True) -> None:
        """Add audio files as lessons (each is probed first: a file that cannot be decoded gets
        an error dialog and is not added), then queue their analysis and open the first."""
        if self.workspace is None:
            self.errors.error("No workspace", "Open or create a workspace first (File > Open Workspace).")
            return
        if analyse is None:
            analyse = str(self.settings.value("analysis/auto", "true")).lower() != "false"
        ws = self.workspace
        runner = TaskRunner(jobs.add_lessons_job(ws, list(paths)), self)
        self._add_runner = runner
        self.statusBar().showMessage(f"Adding {len(paths)} file(s)…")

        def done(result: tuple[list[int], list[tuple[str, str]]]) -> None:
            ids, problems = result
            if self.workspace is not ws:
                return
            known = {int(lesson.id) for lesson in ws.lessons()}
            ids = [i for i in ids if i in known]  # one may have been removed meanwhile
            self.refresh_library()
            for path, reason in problems:
                self.errors.error("Cannot add lesson", reason)
            if ids and analyse:
                self.analyse([i for i in ids if self.workspace.lesson(i).status == LessonStatus.NOT_ANALYSED])
            if ids and open_first:
                self.open_lesson(ids[0])
            self.statusBar().showMessage(f"Added {len(ids)} lesson(s)", 5000)

        runner.succeeded.connect(done)
        runner.failed.connect(lambda reason, details: self.errors.error("Cannot add lessons", reason, details))
        runner.start()

    # ---------------------------------------------------------------- recording
    def show_recorder(self) -> Any:
        """Show the recording panel (made on first use; recordings go to the workspace's
        ``recordings/`` folder and become lessons when they finish)."""
        if self.workspace is None:
            self.errors.error("No workspace", "Open or create a workspace first: recordings are kept in it.")
            return None
        if self.recorder is None:
            from esergui.app.recording import RecordingPanel  # noqa: PLC0415 (PortAudio only when needed)

            panel = RecordingPanel(self.workspace.recordings_dir, self.settings)
            panel.recordingFinished.connect(lambda path: self.add_files([path]))
            panel.recordingFailed.connect(lambda message: self.errors.error("Recording failed", message))
            self.recorder = panel
            dock = self.add_dock(panel, "Record", Qt.DockWidgetArea.RightDockWidgetArea, "recording")
            self.tabifyDockWidget(self.docks["summary"], dock)
        self.docks["recording"].show()
        self.docks["recording"].raise_()
        return self.recorder

    def _recover_recordings(self, ws: Any) -> None:
        """Offer to keep recordings that a crash left unfinished in this workspace."""
        if ws is not self.workspace:
            return
        from esergui.app.recording import offer_recovery  # noqa: PLC0415

        try:
            kept = offer_recovery(ws.recordings_dir, self)
        except USER_ERRORS as exc:
            self.errors.error("Cannot recover recordings", one_line(exc))
            return
        if kept:
            self.add_files([str(p) for p in kept])

    def rename_lesson(self, lesson_id: int, name: str) -> None:
        try:
            self.workspace.rename_lesson(lesson_id, name)
        except USER_ERRORS as exc:
            self.errors.error("Cannot rename lesson", one_line(exc))
        self.refresh_library()
        if lesson_id == self.current_id:
            self.reload_current_lesson()

    def remove_lessons(self, ids: list[int], confirm: bool = True) -> None:
        if not ids or self.workspace is None:
            return
        if confirm:
            names = ", ".join(self.workspace.lesson(i).name for i in ids[:3]) + ("…" if len(ids) > 3 else "")
            answer = QMessageBox.question(
                self, "Remove lessons",
                f"Remove {len(ids)} lesson(s) ({names}) and their analyses and annotations from this workspace?\n"
                "The audio files stay where they are.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        for i in ids:
            self.queue.remove(i)
        if self.current_id in ids:
            self.player.stop()
            self.current_id = None
            self.selection.set_lesson(LessonData.empty())
        for i in ids:
            try:
                self.workspace.remove_lesson(i)
            except USER_ERRORS as exc:
                self.errors.error("Cannot remove lesson", one_line(exc))
        self.refresh_library()
        self._update_actions()

    # ================================================================= lessons
    @property
    def lesson_data(self) -> LessonData:
        return self.selection.lesson

    def open_lesson(self, lesson_id: int) -> None:
        """Show a lesson: its records now, its audio (decoded in the background if needed)."""
        if self.workspace is None:
            return
        try:
            self.workspace.lesson(lesson_id)
        except USER_ERRORS as exc:  # removed meanwhile
            self.statusBar().showMessage(one_line(exc), 5000)
            return
        if lesson_id != self.current_id:
            self.player.stop()
            self._cancel_runner("_audio_runner")
            self._cancel_runner("_envelope_runner")
            self.undo_stack.clear()
            self.current_id = lesson_id
            source = self._cached_source(lesson_id)
            self._load(lesson_id, source, keep_view=False)
            if source is None:
                self._prepare_audio(lesson_id)
            else:
                self._compute_envelope(lesson_id, source)
        else:
            self.reload_current_lesson()
        self.library.select_ids({lesson_id})
        self._update_actions()

    def reload_current_lesson(self, keep_view: bool = True) -> None:
        """Re-read the current lesson from the workspace (after an edit or new results), keeping
        the audio, the visible range and the selection. Call it after changing the store."""
        if self.workspace is None or self.current_id is None:
            return
        self._load(self.current_id, self.lesson_data.source, keep_view=keep_view)

    def relabel_current_lesson(self, records: Sequence[Utterance]) -> bool:
        """Show new labels, roles or speakers of ``records`` (shown utterances, times unchanged)
        without re-reading the lesson: only their rows are redrawn in the table. False when
        that is not possible (then call :meth:`reload_current_lesson`)."""
        if self.workspace is None or self.current_id is None or self.lesson_data.lesson_id != self.current_id:
            return False
        try:
            names = {s.label: s.name for s in self.workspace.speakers(self.current_id)}
        except USER_ERRORS:
            return False
        patched = relabelled(self.lesson_data, records, names)
        if patched is None:
            return False
        data, self._relabelled_rows = patched
        self._keep_view = True
        self.selection.set_lesson(data, keep_selection=True)
        return True

    def _load(self, lesson_id: int, source: LockedSource | None, keep_view: bool) -> None:
        try:
            data = load_lesson_data(self.workspace, lesson_id, source)
        except USER_ERRORS as exc:
            self.errors.error("Cannot open lesson", one_line(exc))
            return
        self._keep_view = keep_view
        self.selection.set_lesson(data, keep_selection=keep_view)

    def _show_lesson(self, data: LessonData) -> None:
        keep = getattr(self, "_keep_view", False)
        shown, self._shown = getattr(self, "_shown", None), data
        rows, self._relabelled_rows = getattr(self, "_relabelled_rows", None), None
        if keep and shown is not None and same_utterances(shown, data):
            self._show_relabelled(data, rows)
            return
        self._summary_timer.stop()
        self.central.setCurrentWidget(self.splitter if self.current_id is not None else self.placeholder)
        self.overview.set_lesson(data)
        self.detail.set_lesson(data, keep_range=keep)
        self.table.set_lesson(data)
        self.summary.set_lesson(data)
        self.docks["summary"].setWindowTitle(f"Summary — {data.name}" if data.name else "Summary")
        self._on_detail_range(*self.detail.visible_range())
        self.lessonLoaded.emit(data)

    def _show_relabelled(self, data: LessonData, rows: np.ndarray | None = None) -> None:
        """The cheap path of a reload after a label/role/speaker edit (same utterances, same
        times): rows updated in place (only ``rows`` when known), blocks re-coloured; the emotion curve and the summary are
        redrawn once, shortly after (coalesced over quick successive edits)."""
        self.overview.recolour(data, curve=False)
        self.detail.set_lesson(data, keep_range=True)
        self.table.update_rows(data, rows)
        self._summary_timer.start()
        self.lessonLoaded.emit(data)

    def _refresh_summary(self) -> None:
        self.overview._redraw_curve()
        self.summary.set_lesson(self.lesson_data)

    def _cached_source(self, lesson_id: int) -> LockedSource | None:
        lesson = self.workspace.lesson(lesson_id)
        return jobs.open_source(self.workspace.cache_file(lesson))

    def _prepare_audio(self, lesson_id: int) -> None:
        """Decode the lesson's audio into the workspace cache, unless an analysis will."""
        if lesson_id in self.queue.keys():
            return  # the analysis decodes it; _on_job_progress attaches it when ready
        runner = TaskRunner(jobs.decode_job(self.workspace, lesson_id), self)
        self._audio_runner = runner
        runner.succeeded.connect(lambda _res, lid=lesson_id: self._attach_audio(lid))
        runner.failed.connect(lambda reason, details: self.errors.error("Cannot read the lesson's audio", reason, details))
        runner.start()

    def _attach_audio(self, lesson_id: int) -> None:
        if lesson_id != self.current_id or self.lesson_data.source is not None:
            return
        source = self._cached_source(lesson_id)
        if source is not None:
            self._load(lesson_id, source, keep_view=True)
            self._compute_envelope(lesson_id, source)

    def _compute_envelope(self, lesson_id: int, source: LockedSource) -> None:
        lesson = self.workspace.lesson(lesson_id)
        runner = TaskRunner(jobs.envelope_job(source, self.workspace.cache_dir, lesson.audio_sha256), self)
        self._envelope_runner = runner

        def done(env: Envelope, lid=lesson_id) -> None:
            if lid == self.current_id and self.lesson_data.source is source:
                self.detail.set_envelope(env)

        runner.succeeded.connect(done)
        runner.start()

    def _cancel_runner(self, name: str) -> None:
        runner: TaskRunner | None = getattr(self, name)
        if runner is not None and runner.running:
            runner.cancel()
        setattr(self, name, None)

    # ================================================================ selection
    def _on_selected(self, ids: list, source: object) -> None:
        rows = self.selection.rows()
        if source is not self.table:
            self.table.select_rows(rows)
        self.overview.set_selected_rows(rows)
        self.detail.set_selected_rows(rows)
        data = self.lesson_data
        if rows:
            first, last = rows[0], rows[-1]
            if source is not self.detail:
                self.detail.ensure_visible(float(data.start[first]), float(data.end[last]))
            self.detail.set_cursor(float(data.start[first]), emit=False)
            self.statusBar().showMessage(utterance_tooltip(data, rows[-1]).replace("\n", " · "), 8000)
        self._update_time_label()
        self._update_actions()

    def _on_detail_range(self, t0: float, t1: float) -> None:
        self.overview.set_region(t0, t1)
        self._update_time_label()

    def _centre_on(self, t: float) -> None:
        t0, t1 = self.detail.visible_range()
        self.detail.set_range(t - (t1 - t0) / 2, t + (t1 - t0) / 2)

    def _update_time_label(self) -> None:
        self.time_label.setVisible(self.current_id is not None)
        t0, t1 = self.detail.visible_range()
        self.time_label.setText(f"Cursor {format_time(self.detail.cursor_time, 1)} · view {format_time(t0)}–{format_time(t1)}")

    def set_lane_mode(self, mode: str) -> None:
        self.overview.set_lane_mode(mode)
        self.detail.set_lane_mode(mode)
        self.detail.set_selected_rows(self.selection.rows())
        self.overview.set_selected_rows(self.selection.rows())

    # ================================================================= analysis
    def analyse(self, ids: list[int] | None = None) -> None:
        """Queue the analysis of ``ids`` (default: the selected lessons, else the current one)."""
        if self.workspace is None:
            return
        ids = ids or self.library.selected_ids() or ([self.current_id] if self.current_id is not None else [])
        for lesson_id in ids:
            lesson = self.workspace.lesson(lesson_id)
            job = jobs.analysis_job(self.workspace, lesson_id, self.compute_device)
            self.queue.add(lesson_id, lesson.name, job)
        self.refresh_library()

    def cancel_analysis(self) -> None:
        """Cancel the running analysis (the queue goes on with the next lesson)."""
        self.queue.cancel_current()
        self.analysis.message.setText("Cancelling…")

    def _on_job_started(self, lesson_id: int, title: str) -> None:
        self._partials.pop(lesson_id, None)
        self.analysis.start(title)
        self.docks["analysis"].raise_()
        self.refresh_library()
        self._update_actions()

    def _on_job_progress(self, lesson_id: int, stage: str, fraction: float, message: str) -> None:
        self.analysis.set_progress(stage, fraction, message)
        if stage != "decode" and lesson_id == self.current_id and self.lesson_data.source is None:
            self._attach_audio(lesson_id)

    def _on_job_partial(self, lesson_id: int, obj: object) -> None:
        """Results as they arrive: the pipeline hands over what it has found so far."""
        if lesson_id != self.current_id:
            return
        data = jobs.partial_lesson_data(self.workspace, lesson_id, obj, self.lesson_data, self._partials)
        if data is not None:
            self._keep_view = True
            self.selection.set_lesson(data, keep_selection=True)

    def _on_job_end(self, lesson_id: int, outcome: str, reason: str, details: str = "", skipped: dict | None = None) -> None:
        self._partials.pop(lesson_id, None)
        name = ""
        try:
            name = self.workspace.lesson(lesson_id).name if self.workspace else ""
        except USER_ERRORS:
            pass
        text = {"done": f"Analysed: {name}", "failed": f"Failed: {name}", "cancelled": f"Cancelled: {name}"}[outcome]
        self.analysis.finish(text, skipped)
        if outcome == "failed":
            self.errors.error("Analysis failed", f"{name}: {reason}" if name else reason, details)
        self.refresh_library()
        if lesson_id == self.current_id:
            self.reload_current_lesson()
            if self.lesson_data.source is None:
                self._attach_audio(lesson_id)
        self._update_actions()
        self.statusBar().showMessage(text, 5000)
        self.analysisFinished.emit(lesson_id, outcome)

    def _on_queue_changed(self) -> None:
        names = []
        if self.workspace is not None:
            for q in list(self.queue.pending):
                names.append(q.title)
        self.analysis.set_queue(names)
        self._update_actions()

    # ================================================================= playback
    def toggle_play(self) -> None:
        """Space: stop if playing; else play the selection, or from the cursor."""
        if self.player.playing:
            self.player.stop()
        elif self.selection.rows():
            self.play_selection()
        else:
            self.play_from_cursor()

    def play_selection(self) -> None:
        rows = self.selection.rows()
        if rows:
            data = self.lesson_data
            self.player.play(data.source, float(data.start[rows[0]]), float(data.end[rows[-1]]))

    def play_visible(self) -> None:
        t0, t1 = self.detail.visible_range()
        self.player.play(self.lesson_data.source, t0, t1)

    def play_from_cursor(self) -> None:
        self.player.play(self.lesson_data.source, self.detail.cursor_time, self.lesson_data.duration_s)

    def _play_row(self, row: int) -> None:
        self.selection.select_rows([row], self)
        self.play_selection()

    def _on_play_position(self, t: float) -> None:
        self.overview.set_playhead(t)
        self.detail.set_playhead(t)
        t0, t1 = self.detail.visible_range()
        if t > t1 or t < t0:  # page along with the playhead
            self.detail.set_range(t - 0.05 * (t1 - t0), t + 0.95 * (t1 - t0))

    def _on_play_stopped(self) -> None:
        self.overview.set_playhead(None)
        self.detail.set_playhead(None)
        self._update_actions()

    def _on_audio_unavailable(self, reason: str) -> None:
        self.statusBar().showMessage(f"Playback unavailable: {reason}", 10000)
        if not getattr(self, "_audio_notice_shown", False):
            self._audio_notice_shown = True
            self.errors.error("Playback unavailable", reason + " Everything else keeps working.")

    # =================================================================== export
    def _export_ids(self) -> list[int]:
        ids = self.library.selected_ids()
        if len(ids) <= 1 and self.current_id is not None:
            ids = [self.current_id]
        return ids

    def export_csv(self, folder: str | None = None, ids: list[int] | None = None) -> list[Path]:
        """Utterances, summary and 5-minute-bin CSVs per lesson (as ``esergui analyze`` writes
        them) plus ``lessons_summary.csv`` when there are several; returns the written files."""
        ids = ids or self._export_ids()
        if not ids:
            return []
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Export CSV files to folder", str(self.settings.value("export/dir", "")))
            if not folder:
                return []
            self.settings.setValue("export/dir", folder)
        try:
            files = export_lessons_csv(self.workspace, ids, folder)
        except USER_ERRORS as exc:
            self.errors.error("Export failed", one_line(exc))
            return []
        self.statusBar().showMessage(f"Exported {len(files)} file(s) to {folder}", 8000)
        return files

    def export_summary(self, path: str | None = None, ids: list[int] | None = None) -> Path | None:
        """One summary CSV, one row per lesson (selected lessons, or the current one)."""
        ids = ids or self._export_ids()
        if not ids:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export summary CSV", str(Path(str(self.settings.value("export/dir", ""))) / "lessons_summary.csv"), "CSV files (*.csv)")
            if not path:
                return None
        try:
            out = export_summary_csv(self.workspace, ids, path)
        except USER_ERRORS as exc:
            self.errors.error("Export failed", one_line(exc))
            return None
        self.statusBar().showMessage(f"Exported {out}", 8000)
        return out

    def export_png(self, path: str | None = None) -> Path | None:
        """The timelines and the summary plots of the current lesson as one PNG (2x scale)."""
        if path is None:
            stem = (self.lesson_data.name or "lesson").replace(" ", "_")
            path, _ = QFileDialog.getSaveFileName(self, "Export figure", str(Path(str(self.settings.value("export/dir", ""))) / f"{stem}_timeline.png"), "PNG images (*.png)")
            if not path:
                return None
        try:
            self.detail.render_now()
            out = save_image(lesson_figure(self.splitter, [self.summary.by_role, self.summary.by_bin]), path)
        except USER_ERRORS as exc:
            self.errors.error("Export failed", one_line(exc))
            return None
        self.statusBar().showMessage(f"Saved {out}", 8000)
        return out

    # ================================================================== dialogs
    def choose_workspace(self, create: bool = False) -> None:
        title = "Create workspace (choose an empty folder)" if create else "Open workspace folder"
        folder = QFileDialog.getExistingDirectory(self, title, str(self.settings.value("workspace/last", "")))
        if folder:
            self.open_workspace(folder)

    def choose_files(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(AUDIO_SUFFIXES))
        files, _ = QFileDialog.getOpenFileNames(self, "Add lessons", str(self.settings.value("lessons/dir", "")),
                                                f"Audio files ({patterns});;All files (*)")
        if files:
            self.settings.setValue("lessons/dir", str(Path(files[0]).parent))
            self.add_files(files)

    def rename_current(self) -> None:
        ids = self.library.selected_ids() or ([self.current_id] if self.current_id is not None else [])
        if not ids:
            return
        old = self.workspace.lesson(ids[0]).name
        name, ok = QInputDialog.getText(self, "Rename lesson", "New name:", text=old)
        if ok and name.strip():
            self.rename_lesson(ids[0], name)

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.menuBar(), self.findChildren(QAction), self)
        dialog.open()
        return dialog

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.model_text, self.device_text, self)
        dialog.open()
        return dialog

    def show_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.compute_device, self, output=str(self.settings.value("playback/device", "") or ""))

        def apply() -> None:
            self.set_compute_device(dialog.device())
            self.set_output_device(dialog.output())

        dialog.accepted.connect(apply)
        dialog.open()
        return dialog

    def set_output_device(self, name: str) -> None:
        """Play through the output device ``name`` ("" = the system default); remembered."""
        self.settings.setValue("playback/device", name)
        self.player.device = name or None
        self._audio_notice_shown = False

    # ============================================================ device probe
    def refresh_model_status(self) -> None:
        """Re-read the active model and compute device into the status bar (call it after the
        active model changed); same as ``_probe_device``."""
        self._probe_device()

    def _probe_device(self) -> None:
        """Find the compute device and model in the background (importing torch takes a while)."""
        runner = TaskRunner(jobs.probe_job(self.compute_device, self.workspace), self)
        self._probe_runner = runner

        def done(result: tuple[str, str]) -> None:
            self.device_text, self.model_text = result
            self.device_label.setText(f"Device: {self.device_text}")
            short = self.model_text if len(self.model_text) <= 48 else self.model_text[:46] + "…"
            self.model_label.setText(f"Model: {short}")
            self.model_label.setToolTip(f"The emotion model used for analysis: {self.model_text}")

        def failed(reason: str, _details: str) -> None:
            self.device_text = f"unavailable ({reason})"
            self.device_label.setText("Device: unavailable")
            self.device_label.setToolTip(reason)

        runner.succeeded.connect(done)
        runner.failed.connect(failed)
        runner.start()

    # ============================================================== state
    def _update_actions(self) -> None:
        has_ws = self.workspace is not None
        has_lesson = self.current_id is not None
        has_audio = self.lesson_data.source is not None
        a = self.actions_
        for name in ("add_lessons", "analyse", "export_csv", "export_summary"):
            a[name].setEnabled(has_ws and (name == "add_lessons" or has_lesson or bool(self.library.selected_ids())))
        a["rename"].setEnabled(has_ws and (has_lesson or bool(self.library.selected_ids())))
        a["remove"].setEnabled(has_ws and bool(self.library.selected_ids() or has_lesson))
        a["cancel"].setEnabled(self.queue.is_busy())
        a["export_png"].setEnabled(has_lesson)
        a["record"].setEnabled(has_ws)
        if hasattr(self, "_welcome_add"):
            self._welcome_add.setEnabled(has_ws)
        playing = self.player.playing
        a["play"].setEnabled(has_audio or playing)
        a["play"].setIcon(icon("stop" if playing else "play"))
        a["play"].setText("Stop" if playing else "Play / Stop")
        for name in ("play_visible", "play_cursor"):
            a[name].setEnabled(has_audio)
        a["play_selection"].setEnabled(has_audio and bool(self.selection.ids))

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt API)
        paths = audio_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.add_files(paths)

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
        self.close_workspace()


def same_utterances(old: LessonData, new: LessonData) -> bool:
    """Whether ``new`` holds the same utterances as ``old`` (ids, times, label list, audio) so
    only labels/roles/speakers/confidences can differ: a reload may update views in place."""
    if old is new or len(old) != len(new) or old.labels != new.labels or old.name != new.name:
        return old is new
    return (old.source is new.source and old.duration_s == new.duration_s
            and old.lesson_id == new.lesson_id
            and bool(old.extra.get("partial")) == bool(new.extra.get("partial"))
            and np.array_equal(old.ids, new.ids) and np.array_equal(old.start, new.start)
            and np.array_equal(old.end, new.end))


def default_data_dir() -> Path:
    """The user's data folder for ESER Studio (the demo workspace lives below it)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".local" / "share" / "ESER Studio")

