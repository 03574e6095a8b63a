"""The workspace seen from the window: :class:`WorkspaceController` opens and closes
workspaces (remembering recent ones), adds, renames and removes lessons, and owns the
recording panel whose recordings become lessons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from esergui.app.common.workers import TaskRunner, one_line
from esergui.app.library.lessons import AUDIO_SUFFIXES
from esergui.app.recording.panel import RecordingPanel
from esergui.app.recording.recovery import offer_recovery
from esergui.app.shell.badfiles import keep_readable_job, keepable, report_problems
from esergui.app.shell.fit import fit_window
from esergui.errors import USER_ERRORS
from esergui.lesson import LessonStatus, stored_id
from esergui.review import jobs
from esergui.review.lessondata import LessonData
from esergui.workspace import Workspace

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow

MAX_RECENT = 8


class WorkspaceController:
    """Opens ``win.workspace`` and changes which lessons it holds."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self._add_runner: TaskRunner | None = None
        self._listing_problem = ""  # the last reason the lessons could not be listed (shown once)

    def open_workspace(self, folder: str | Path) -> bool:
        """Open (creating if needed) the workspace in ``folder``; errors go to a dialog."""
        try:
            ws = Workspace.open(folder)
        except USER_ERRORS as exc:
            self.win.errors.error("Cannot open workspace", one_line(exc))
            return False
        self.close_workspace()
        self.win.workspace = ws
        self._remember_workspace(str(ws.folder))
        self.win.setWindowTitle(f"ESER Studio — {ws.folder.name}")
        self.refresh_library()
        self.win.status.probe_device()  # the workspace may have another active model
        if self.win.recorder is not None:
            self.win.recorder.set_output_dir(ws.recordings_dir)
        QTimer.singleShot(0, lambda w=ws: self._recover_recordings(w))
        self.win.workspaceOpened.emit(ws)
        self.win.update_actions()
        self.win.statusBar().showMessage(f"Opened workspace {ws.folder}", 5000)
        return True

    def close_workspace(self) -> None:
        if self.win.workspace is None:
            return
        self.win.queue.cancel_all()
        self.win.queue.wait(5000)
        self.win.player.stop()
        self.win.lessons.cancel_loading()
        self.win.undo_stack.clear()
        self.win.current_id = None
        self.win.selection.set_lesson(LessonData.empty())
        self.win.workspace.close()
        self.win.workspace = None
        self.win.library.set_lessons([])

    def refresh_library(self) -> None:
        if self.win.workspace is None:
            return
        queued = set(self.win.queue.keys())
        try:
            lessons = self.win.workspace.lessons()
        except USER_ERRORS as exc:  # a damaged lesson row: the list keeps what it showed
            if one_line(exc) != self._listing_problem:
                self._listing_problem = one_line(exc)
                self.win.errors.error("Cannot list the lessons", self._listing_problem)
            return
        self._listing_problem = ""
        self.win.library.set_lessons(lessons, queued, self.win.current_id)

    def add_files(
        self, paths: list[str], analyse: bool | None = None, open_first: bool = True, notice: str = ""
    ) -> None:
        """Add audio files as lessons (each is probed first: the files that cannot be decoded
        are listed in one dialog and not added), then queue their analysis and open the first;
        ``notice`` follows "Added n lesson(s)" in the status bar."""
        if self.win.workspace is None:
            self.win.errors.error("No workspace", "Open or create a workspace first (File > Open Workspace).")
            return
        if analyse is None:
            analyse = str(self.win.settings.value("analysis/auto", "true")).lower() != "false"
        ws = self.win.workspace
        runner = TaskRunner(jobs.add_lessons_job(ws, list(paths)), self.win)
        self._add_runner = runner
        self.win.statusBar().showMessage(f"Adding {len(paths)} file(s)…")

        def done(result: tuple[list[int], list[tuple[str, str]]]) -> None:
            ids, problems = result
            if self.win.workspace is not ws:
                return
            known = {stored_id(lesson.id) for lesson in ws.lessons()}
            ids = [i for i in ids if i in known]  # one may have been removed meanwhile
            self.refresh_library()
            report_problems(self.win, problems, len(paths))
            truncated = [p for p, reason in problems if keepable(p, reason)]
            if truncated:
                self._keep_readable(truncated, analyse, open_first=open_first and not ids)
            if ids and analyse:
                self.win.analysis_jobs.analyse(
                    [i for i in ids if self.win.workspace.lesson(i).status == LessonStatus.NOT_ANALYSED]
                )
            if ids and open_first:
                self.win.lessons.open_lesson(ids[0])
            self.win.statusBar().showMessage(
                f"Added {len(ids)} lesson(s)" + (f": {notice}" if notice else ""), 15000 if notice else 5000
            )

        runner.succeeded.connect(done)
        runner.failed.connect(lambda reason, details: self.win.errors.error("Cannot add lessons", reason, details))
        runner.start()

    def _keep_readable(self, paths: list[str], analyse: bool, open_first: bool) -> None:
        """Add the readable part of truncated files (a repaired copy each), with a notice."""
        ws = self.win.require_workspace()
        runner = TaskRunner(keep_readable_job(ws.folder / "repaired", paths), self.win)
        self._repair_runner = runner

        def done(result: tuple[list[tuple[str, str, float]], list[tuple[str, str]]]) -> None:
            kept, failed = result
            if self.win.workspace is not ws:
                return
            if kept:
                seconds = ", ".join(f"{Path(p).name}: {s:.1f} s" for p, _copy, s in kept)
                self.add_files(
                    [copy for _, copy, _ in kept],
                    analyse,
                    open_first,
                    notice=f"kept the readable part of {len(kept)} truncated file(s) ({seconds}); "
                    "the originals are unchanged",
                )
            report_problems(self.win, [(p, f"its readable part could not be kept: {r}") for p, r in failed], len(paths))

        runner.succeeded.connect(done)
        runner.failed.connect(
            lambda reason, details: self.win.errors.error("Cannot keep the readable part", reason, details)
        )
        runner.start()

    def show_recorder(self) -> RecordingPanel | None:
        """Show the recording panel (made on first use; recordings go to the workspace's
        ``recordings/`` folder and become lessons when they finish)."""
        if self.win.workspace is None:
            self.win.errors.error("No workspace", "Open or create a workspace first: recordings are kept in it.")
            return None
        if self.win.recorder is None:
            panel = RecordingPanel(self.win.workspace.recordings_dir, self.win.settings)
            panel.recordingFinished.connect(lambda path: self.add_files([path]))
            panel.recordingFailed.connect(lambda message: self.win.errors.error("Recording failed", message))
            self.win.recorder = panel
            dock = self.win.add_dock(panel, "Record", Qt.DockWidgetArea.RightDockWidgetArea, "recording")
            self.win.tabifyDockWidget(self.win.docks["summary"], dock)
        self.win.docks["recording"].show()
        self.win.docks["recording"].raise_()
        QTimer.singleShot(0, lambda: fit_window(self.win))  # the panel must not grow the window past the screen
        return self.win.recorder

    def _recover_recordings(self, ws: Workspace) -> None:
        """Offer to keep recordings that a crash left unfinished in this workspace."""
        if ws is not self.win.workspace:
            return
        try:
            kept = offer_recovery(ws.recordings_dir, self.win)
        except USER_ERRORS as exc:
            self.win.errors.error("Cannot recover recordings", one_line(exc))
            return
        if kept:
            self.add_files([str(p) for p in kept])

    def rename_lesson(self, lesson_id: int, name: str) -> None:
        try:
            self.win.require_workspace().rename_lesson(lesson_id, name)
        except USER_ERRORS as exc:
            self.win.errors.error("Cannot rename lesson", one_line(exc))
        self.refresh_library()
        if lesson_id == self.win.current_id:
            self.win.lessons.reload_current_lesson()

    def remove_lessons(self, ids: list[int], confirm: bool = True) -> None:
        if not ids or self.win.workspace is None:
            return
        if confirm:
            names = ", ".join(self.win.workspace.lesson(i).name for i in ids[:3]) + ("…" if len(ids) > 3 else "")
            answer = QMessageBox.question(
                self.win,
                "Remove lessons",
                f"Remove {len(ids)} lesson(s) ({names}) and their analyses and annotations from this workspace?\n"
                "The audio files stay where they are.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        for i in ids:
            self.win.queue.remove(i)
        if self.win.current_id in ids:
            self.win.player.stop()
            self.win.current_id = None
            self.win.selection.set_lesson(LessonData.empty())
        for i in ids:
            try:
                self.win.workspace.remove_lesson(i)
            except USER_ERRORS as exc:
                self.win.errors.error("Cannot remove lesson", one_line(exc))
        self.refresh_library()
        self.win.update_actions()

    def choose_workspace(self, create: bool = False) -> None:
        title = "Create workspace (choose an empty folder)" if create else "Open workspace folder"
        folder = QFileDialog.getExistingDirectory(self.win, title, str(self.win.settings.value("workspace/last", "")))
        if folder:
            self.open_workspace(folder)

    def choose_files(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(AUDIO_SUFFIXES))
        files, _ = QFileDialog.getOpenFileNames(
            self.win,
            "Add lessons",
            str(self.win.settings.value("lessons/dir", "")),
            f"Audio files ({patterns});;All files (*)",
        )
        if files:
            self.win.settings.setValue("lessons/dir", str(Path(files[0]).parent))
            self.add_files(files)

    def locate_audio(self, lesson_id: int | None = None, path: str | None = None) -> bool:
        """Point a lesson whose audio file moved at its new place (Edit > Locate Audio…): the
        workspace accepts the file only when its content is the lesson's (size, then SHA-256).
        ``path`` None asks with a file dialog. Returns True when the lesson was relocated."""
        ws = self.win.workspace
        ids = (
            [lesson_id]
            if lesson_id is not None
            else self.win.library.selected_ids() or ([self.win.current_id] if self.win.current_id is not None else [])
        )
        if ws is None or not ids:
            return False
        lesson = ws.lesson(ids[0])
        if path is None:
            patterns = " ".join(f"*{s}" for s in sorted(AUDIO_SUFFIXES))
            path, _ = QFileDialog.getOpenFileName(
                self.win,
                f"Locate the audio of “{lesson.name}”",
                str(self.win.settings.value("lessons/dir", "")),
                f"Audio files ({patterns});;All files (*)",
            )
        if not path:
            return False
        try:
            ws.relocate(stored_id(lesson.id), path)
        except USER_ERRORS as exc:
            self.win.errors.error("Not this lesson's audio", one_line(exc))
            return False
        self.win.statusBar().showMessage(f"Found the audio of {lesson.name}: {path}", 8000)
        self.refresh_library()
        if lesson.id == self.win.current_id and self.win.lesson_data.source is None:
            self.win.lessons.load_audio(stored_id(lesson.id))
        return True

    def rename_current(self) -> None:
        ids = self.win.library.selected_ids() or ([self.win.current_id] if self.win.current_id is not None else [])
        if not ids:
            return
        old = self.win.require_workspace().lesson(ids[0]).name
        name, ok = QInputDialog.getText(self.win, "Rename lesson", "New name:", text=old)
        if ok and name.strip():
            self.rename_lesson(ids[0], name)

    def recent_workspaces(self) -> list[str]:
        value = self.win.settings.value("workspace/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value if isinstance(value, Iterable) else []) if v]

    def _remember_workspace(self, folder: str) -> None:
        recent = [folder] + [f for f in self.recent_workspaces() if f != folder]
        self.win.settings.setValue("workspace/recent", recent[:MAX_RECENT])
        self.win.settings.setValue("workspace/last", folder)
        self.fill_recent_menu()

    def _opener(self, folder: str) -> Callable[[], object]:
        return lambda: self.open_workspace(folder)

    def fill_recent_menu(self) -> None:
        menu = self.win.menus.get("recent")
        if menu is None:
            return
        menu.clear()
        for folder in self.recent_workspaces():
            act = menu.addAction(folder, self._opener(folder))
            act.setToolTip(f"Open the workspace {folder}")
        menu.setEnabled(bool(self.recent_workspaces()))
