"""The analysis queue seen from the window: :class:`AnalysisController` queues lessons for
analysis (one at a time, on the compute device the user chose), shows progress and partial
results as they arrive, and reloads the lesson when its analysis ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esergui.app.library.analysis_panel import AnalysisPanel
from esergui.errors import USER_ERRORS
from esergui.review import jobs

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow


class AnalysisController:
    """Drives ``win.queue`` (a :class:`~esergui.app.common.workers.JobQueue`) and the Analysis dock."""

    def __init__(self, win: MainWindow, panel: AnalysisPanel) -> None:
        self.win = win
        self.panel = panel
        self._partials: dict[int, list] = {}  # lesson id -> utterances received so far
        panel.cancelRequested.connect(self.cancel_analysis)
        q = win.queue
        q.jobStarted.connect(self._on_job_started)
        q.jobProgress.connect(self._on_job_progress)
        q.jobPartial.connect(self._on_job_partial)
        q.jobSucceeded.connect(
            lambda key, res: self._on_job_end(key, "done", "", skipped=(res or {}).get("skipped", {}))
        )
        q.jobFailed.connect(lambda key, reason, details: self._on_job_end(key, "failed", reason, details))
        q.jobCancelled.connect(lambda key: self._on_job_end(key, "cancelled", ""))
        q.queueChanged.connect(self._on_queue_changed)
        q.queueChanged.connect(win.workspaces.refresh_library)

    def analyse(self, ids: list[int] | None = None) -> None:
        """Queue the analysis of ``ids`` (default: the selected lessons, else the current one)."""
        if self.win.workspace is None:
            return
        ids = (
            ids or self.win.library.selected_ids() or ([self.win.current_id] if self.win.current_id is not None else [])
        )
        for lesson_id in ids:
            lesson = self.win.workspace.lesson(lesson_id)
            job = jobs.analysis_job(self.win.workspace, lesson_id, self.win.compute_device)
            self.win.queue.add(lesson_id, lesson.name, job)
        self.win.workspaces.refresh_library()

    def cancel_analysis(self) -> None:
        """Cancel the running analysis (the queue goes on with the next lesson)."""
        self.win.queue.cancel_current()
        self.panel.message.setText("Cancelling…")

    def _on_job_started(self, lesson_id: int, title: str) -> None:
        self._partials.pop(lesson_id, None)
        self.panel.start(title)
        self.win.docks["analysis"].raise_()
        self.win.workspaces.refresh_library()
        self.win.update_actions()

    def _on_job_progress(self, lesson_id: int, stage: str, fraction: float, message: str) -> None:
        self.panel.set_progress(stage, fraction, message)
        if stage != "decode" and lesson_id == self.win.current_id and self.win.lesson_data.source is None:
            self.win.lessons.attach_audio(lesson_id)

    def _on_job_partial(self, lesson_id: int, obj: object) -> None:
        """Results as they arrive: the pipeline hands over what it has found so far."""
        if lesson_id != self.win.current_id:
            return
        data = jobs.partial_lesson_data(
            self.win.require_workspace(), lesson_id, obj, self.win.lesson_data, self._partials
        )
        if data is not None:
            self.win.lessons.show(data, keep_view=True)

    def _on_job_end(
        self, lesson_id: int, outcome: str, reason: str, details: str = "", skipped: dict | None = None
    ) -> None:
        self._partials.pop(lesson_id, None)
        name = ""
        try:
            name = self.win.workspace.lesson(lesson_id).name if self.win.workspace else ""
        except USER_ERRORS:
            pass
        text = {"done": f"Analysed: {name}", "failed": f"Failed: {name}", "cancelled": f"Cancelled: {name}"}[outcome]
        self.panel.finish(text, skipped)
        if outcome == "failed":
            self.win.errors.error("Analysis failed", f"{name}: {reason}" if name else reason, details)
        self.win.workspaces.refresh_library()
        if lesson_id == self.win.current_id:
            self.win.lessons.reload_current_lesson()
            if outcome == "done":
                self.win.docks["summary"].raise_()  # a teacher's main result, in front
            if self.win.lesson_data.source is None:
                self.win.lessons.attach_audio(lesson_id)
        self.win.update_actions()
        self.win.statusBar().showMessage(text, 5000)
        self.win.analysisFinished.emit(lesson_id, outcome)

    def _on_queue_changed(self) -> None:
        names = []
        if self.win.workspace is not None:
            for q in list(self.win.queue.pending):
                names.append(q.title)
        self.panel.set_queue(names)
        self.win.update_actions()
