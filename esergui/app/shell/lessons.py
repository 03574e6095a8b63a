"""Showing lessons: the window's :class:`LessonController` opens a lesson, reloads it after
edits or new results (cheaply in place when only labels changed), attaches its decoded audio
and waveform envelope when they are ready, and keeps the views in step with the selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QTimer

from esergui.app.common.workers import TaskRunner, one_line
from esergui.app.timeline.overview import utterance_tooltip
from esergui.audio.envelope import Envelope
from esergui.audio.locked import LockedSource
from esergui.audio.pcm import open_cached_source
from esergui.errors import USER_ERRORS
from esergui.lesson import Utterance
from esergui.review import jobs
from esergui.review.adapters import load_lesson_data, relabelled
from esergui.review.lessondata import LessonData
from esergui.timefmt import format_time

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow


MOVED_HINT = " Edit > Locate Audio… points the lesson at the file where it is now."


class LessonController:
    """Opens, reloads and shows the window's current lesson (``win.current_id``)."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self._keep_view = False  # the next shown lesson keeps the visible range and selection
        self._shown: LessonData | None = None  # what the views show now
        self._relabelled_rows: np.ndarray | None = None  # rows a relabel changed (None: unknown)
        self._audio_runner: TaskRunner | None = None
        self._envelope_runner: TaskRunner | None = None
        self._summary_timer = QTimer(win)  # coalesces summary/curve redraws after quick edits
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(150)
        self._summary_timer.timeout.connect(self._refresh_summary)
        self._view_timer = QTimer(win)  # saves the visible range once it stops moving
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(300)
        self._view_timer.timeout.connect(self.save_view)
        win.selection.lessonChanged.connect(self._on_lesson_changed)
        win.selection.utterancesSelected.connect(self.on_selected)

    def open_lesson(self, lesson_id: int) -> None:
        """Show a lesson: its records now, its audio (decoded in the background if needed)."""
        if self.win.workspace is None:
            return
        try:
            self.win.workspace.lesson(lesson_id)
        except USER_ERRORS as exc:  # removed meanwhile, or its row is damaged
            self.win.errors.error("Cannot open lesson", one_line(exc))
            return
        if lesson_id != self.win.current_id:
            source = self._cached_source(lesson_id)
            try:  # read first: a lesson that cannot be read leaves the shown one as it is
                data = load_lesson_data(self.win.require_workspace(), lesson_id, source)
            except USER_ERRORS as exc:
                self.win.errors.error("Cannot open lesson", one_line(exc))
                return
            self.save_view()
            self.win.player.stop()
            self.cancel_loading()
            self.win.undo_stack.clear()
            self.win.current_id = lesson_id
            self.show(data, keep_view=False)
            if source is None:
                self._prepare_audio(lesson_id)
            else:
                self._compute_envelope(lesson_id, source)
        else:
            self.reload_current_lesson()
        self.win.library.select_ids({lesson_id})
        self.win.update_actions()

    def reload_current_lesson(self, keep_view: bool = True) -> None:
        """Re-read the current lesson from the workspace (after an edit or new results), keeping
        the audio, the visible range and the selection. Call it after changing the store."""
        if self.win.workspace is None or self.win.current_id is None:
            return
        self._load(self.win.current_id, self.win.lesson_data.source, keep_view=keep_view)

    def relabel_current_lesson(self, records: Sequence[Utterance]) -> bool:
        """Show new labels, roles or speakers of ``records`` (shown utterances, times unchanged)
        without re-reading the lesson: only their rows are redrawn in the table. False when
        that is not possible (then call :meth:`reload_current_lesson`)."""
        if (
            self.win.workspace is None
            or self.win.current_id is None
            or self.win.lesson_data.lesson_id != self.win.current_id
        ):
            return False
        try:
            names = {s.label: s.name for s in self.win.workspace.speakers(self.win.current_id)}
        except USER_ERRORS:
            return False
        patched = relabelled(self.win.lesson_data, records, names)
        if patched is None:
            return False
        data, self._relabelled_rows = patched
        self.show(data, keep_view=True)
        return True

    def _load(self, lesson_id: int, source: LockedSource | None, keep_view: bool) -> None:
        try:
            data = load_lesson_data(self.win.require_workspace(), lesson_id, source)
        except USER_ERRORS as exc:
            self.win.errors.error("Cannot open lesson", one_line(exc))
            return
        self.show(data, keep_view=keep_view)

    def show(self, data: LessonData, keep_view: bool) -> None:
        """Make ``data`` the current lesson of every view; ``keep_view`` keeps the visible range
        and the selection (and lets a relabelled lesson update the views in place)."""
        self._keep_view = keep_view
        self.win.selection.set_lesson(data, keep_selection=keep_view)

    def _on_lesson_changed(self, data: LessonData) -> None:
        keep = self._keep_view
        shown, self._shown = self._shown, data
        rows, self._relabelled_rows = self._relabelled_rows, None
        if keep and shown is not None and same_utterances(shown, data):
            self._show_relabelled(data, rows)
            return
        self._summary_timer.stop()
        self.win.central.setCurrentWidget(
            self.win.splitter if self.win.current_id is not None else self.win.placeholder
        )
        self.win.overview.set_lesson(data)
        self.win.detail.set_lesson(data, keep_range=keep)
        if not keep:
            self._restore_view()
        self.win.table.set_lesson(data)
        self.win.summary.set_lesson(data)
        self.win.docks["summary"].setWindowTitle(f"Summary — {data.name}" if data.name else "Summary")
        self.on_detail_range(*self.win.detail.visible_range())
        self.win.lessonLoaded.emit(data)

    def _show_relabelled(self, data: LessonData, rows: np.ndarray | None = None) -> None:
        """The cheap path of a reload after a label/role/speaker edit (same utterances, same
        times): rows updated in place (only ``rows`` when known), blocks re-coloured; the emotion curve and the summary are
        redrawn once, shortly after (coalesced over quick successive edits)."""
        self.win.overview.recolour(data, curve=False)
        self.win.detail.set_lesson(data, keep_range=True)
        self.win.table.update_rows(data, rows)
        self._summary_timer.start()
        self.win.lessonLoaded.emit(data)

    def _refresh_summary(self) -> None:
        self.win.overview._redraw_curve()
        self.win.summary.set_lesson(self.win.lesson_data)

    def _cached_source(self, lesson_id: int) -> LockedSource | None:
        ws = self.win.require_workspace()
        return open_cached_source(ws.cache_file(ws.lesson(lesson_id)))

    def _prepare_audio(self, lesson_id: int) -> None:
        """Decode the lesson's audio into the workspace cache, unless an analysis will."""
        if lesson_id in self.win.queue.keys():
            return  # the analysis decodes it; _on_job_progress attaches it when ready
        runner = TaskRunner(jobs.decode_job(self.win.require_workspace(), lesson_id), self.win)
        self._audio_runner = runner
        runner.succeeded.connect(lambda _res, lid=lesson_id: self.attach_audio(lid))
        runner.failed.connect(
            lambda reason, details: self.win.errors.error(
                "Cannot read the lesson's audio",
                reason.rstrip(".") + "." + MOVED_HINT if "relocate" in reason else reason,
                details,
            )
        )
        runner.start()

    def load_audio(self, lesson_id: int) -> None:
        """Decode the current lesson's audio again (after Edit > Locate Audio… found it)."""
        if lesson_id == self.win.current_id and self.win.lesson_data.source is None:
            self._prepare_audio(lesson_id)

    def attach_audio(self, lesson_id: int) -> None:
        if lesson_id != self.win.current_id or self.win.lesson_data.source is not None:
            return
        source = self._cached_source(lesson_id)
        if source is not None:
            self._load(lesson_id, source, keep_view=True)
            self._compute_envelope(lesson_id, source)

    def _compute_envelope(self, lesson_id: int, source: LockedSource) -> None:
        ws = self.win.require_workspace()
        lesson = ws.lesson(lesson_id)
        runner = TaskRunner(jobs.envelope_job(source, ws.cache_dir, lesson.audio_sha256), self.win)
        self._envelope_runner = runner

        def done(env: Envelope, lid=lesson_id) -> None:
            if lid == self.win.current_id and self.win.lesson_data.source is source:
                self.win.detail.set_envelope(env)

        runner.succeeded.connect(done)
        runner.start()

    def cancel_loading(self) -> None:
        """Stop decoding the current lesson's audio and computing its envelope."""
        for runner in (self._audio_runner, self._envelope_runner):
            if runner is not None and runner.running:
                runner.cancel()
        self._audio_runner = self._envelope_runner = None

    def on_selected(self, ids: list, source: object) -> None:
        rows = self.win.selection.rows()
        if source is not self.win.table:
            self.win.table.select_rows(rows)
        self.win.overview.set_selected_rows(rows)
        self.win.detail.set_selected_rows(rows)
        data = self.win.lesson_data
        if rows:
            first, last = rows[0], rows[-1]
            if source is not self.win.detail:  # a click in the detail view put the cursor where it was
                self.win.detail.ensure_visible(float(data.start[first]), float(data.end[last]))
                self.win.detail.set_cursor(float(data.start[first]), emit=False)
            self.win.statusBar().showMessage(utterance_tooltip(data, rows[-1]).replace("\n", " · "), 8000)
        self.update_time_label()
        self.win.update_actions()

    def on_detail_range(self, t0: float, t1: float) -> None:
        self.win.overview.set_region(t0, t1)
        self.update_time_label()
        if self.win.current_id is not None:
            self._view_timer.start()

    # ------------------------------------------------------- view kept per lesson
    def _view_key(self) -> str | None:
        """The settings key of the current lesson's visible range (by audio content, so it
        holds in any workspace that has the lesson)."""
        if self.win.workspace is None or self.win.current_id is None:
            return None
        try:
            return f"view/range/{self.win.workspace.lesson(self.win.current_id).audio_sha256[:20]}"
        except USER_ERRORS:
            return None

    def save_view(self) -> None:
        """Remember the current lesson's visible range (restored when it is opened again)."""
        self._view_timer.stop()
        key = self._view_key()
        if key is not None and self.win.lesson_data.lesson_id == self.win.current_id:
            t0, t1 = self.win.detail.visible_range()
            self.win.settings.setValue(key, f"{t0:.3f} {t1:.3f}")

    def _restore_view(self) -> None:
        key = self._view_key()
        saved = str(self.win.settings.value(key, "") or "") if key is not None else ""
        try:
            t0, t1 = (float(v) for v in saved.split())
        except ValueError:
            return
        if 0 <= t0 < t1:
            self.win.detail.set_range(t0, t1)

    def centre_on(self, t: float) -> None:
        t0, t1 = self.win.detail.visible_range()
        self.win.detail.set_range(t - (t1 - t0) / 2, t + (t1 - t0) / 2)

    def update_time_label(self, playing_at: float | None = None) -> None:
        """The status bar's times: the playhead while playing (and the speed when not 1x),
        else the cursor; and the visible range."""
        self.win.status.time_label.setVisible(self.win.current_id is not None)
        t0, t1 = self.win.detail.visible_range()
        speed = self.win.player.speed
        where = (
            f"▶ {format_time(playing_at, 1)}" + (f" ({speed:g}×)" if speed != 1 else "")
            if playing_at is not None
            else f"Cursor {format_time(self.win.detail.cursor_time, 1)}"
        )
        self.win.status.time_label.setText(f"{where} · view {format_time(t0)}–{format_time(t1)}")

    def set_lane_mode(self, mode: str) -> None:
        self.win.overview.set_lane_mode(mode)
        self.win.detail.set_lane_mode(mode)
        self.win.detail.set_selected_rows(self.win.selection.rows())
        self.win.overview.set_selected_rows(self.win.selection.rows())


def same_utterances(old: LessonData, new: LessonData) -> bool:
    """Whether ``new`` holds the same utterances as ``old`` (ids, times, label list, audio) so
    only labels/roles/speakers/confidences can differ: a reload may update views in place."""
    if old is new or len(old) != len(new) or old.labels != new.labels or old.name != new.name:
        return old is new
    return (
        old.source is new.source
        and old.duration_s == new.duration_s
        and old.lesson_id == new.lesson_id
        and bool(old.extra.get("partial")) == bool(new.extra.get("partial"))
        and np.array_equal(old.ids, new.ids)
        and np.array_equal(old.start, new.start)
        and np.array_equal(old.end, new.end)
    )
