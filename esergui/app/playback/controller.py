"""Playback driven from the window: :class:`PlaybackController` plays the selection (the
range marked with Shift+drag, else the selected utterances), loops it, plays the visible range
or from the cursor at 0.5-2x speed with the pitch kept, moves the playheads (paging the detail
view along) with the time in the status bar, and tells the user once when no audio output is
available.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esergui.app.playback.player import Player

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow


class PlaybackController:
    """Connects ``player`` to the window's views and selection."""

    def __init__(self, win: MainWindow, player: Player) -> None:
        self.win = win
        self.player = player
        self._audio_notice_shown = False  # "playback unavailable" is shown once per device
        player.positionChanged.connect(self._on_play_position)
        player.started.connect(win.update_actions)
        player.stopped.connect(self._on_play_stopped)
        player.unavailable.connect(self._on_audio_unavailable)
        try:
            player.speed = float(str(win.settings.value("playback/speed", 1.0)))
        except (TypeError, ValueError):
            player.speed = 1.0
        player.set_speed(player.speed)  # clamped to what the stretcher does

    def toggle_play(self) -> None:
        """Space: stop if playing; else play the selection, or from the cursor."""
        if self.player.playing:
            self.player.stop()
        elif self.win.selection.rows():
            self.play_selection()
        else:
            self.play_from_cursor()

    def selection_range(self) -> tuple[float, float] | None:
        """The range a "selection" command acts on: the range marked with Shift+drag, else
        from the first selected utterance's start to the last one's end (None: nothing)."""
        marked = self.win.annotation.marked_range
        if marked is not None:
            return marked
        rows = self.win.selection.rows()
        if not rows:
            return None
        data = self.win.lesson_data
        return float(data.start[rows[0]]), float(data.end[rows[-1]])

    def play_selection(self) -> None:
        span = self.selection_range()
        if span is not None:
            self.player.play(self.win.lesson_data.source, *span)

    def set_loop(self, on: bool) -> None:
        """Loop the selection: on plays it again and again (until Stop); off lets it end."""
        self.player.loop = bool(on)
        if on and self.selection_range() is not None:
            self.play_selection()

    def set_speed(self, speed: float) -> None:
        """Playback speed 0.5-2x, pitch kept (remembered)."""
        self.player.set_speed(speed)
        self.win.settings.setValue("playback/speed", self.player.speed)
        self.win.statusBar().showMessage(f"Playback speed {self.player.speed:g}× (pitch kept)", 4000)

    def play_visible(self) -> None:
        t0, t1 = self.win.detail.visible_range()
        self.player.play(self.win.lesson_data.source, t0, t1)

    def play_from_cursor(self) -> None:
        self.player.play(self.win.lesson_data.source, self.win.detail.cursor_time, self.win.lesson_data.duration_s)

    def play_row(self, row: int) -> None:
        self.win.selection.select_rows([row], self.win)
        self.play_selection()

    def _on_play_position(self, t: float) -> None:
        self.win.lessons.update_time_label(playing_at=t)
        self.win.overview.set_playhead(t)
        self.win.detail.set_playhead(t)
        t0, t1 = self.win.detail.visible_range()
        if t > t1 or t < t0:  # page along with the playhead
            self.win.detail.set_range(t - 0.05 * (t1 - t0), t + 0.95 * (t1 - t0))

    def _on_play_stopped(self) -> None:
        self.win.lessons.update_time_label()
        self.win.overview.set_playhead(None)
        self.win.detail.set_playhead(None)
        self.win.update_actions()

    def _on_audio_unavailable(self, reason: str) -> None:
        self.win.statusBar().showMessage(f"Playback unavailable: {reason}", 10000)
        if not self._audio_notice_shown:
            self._audio_notice_shown = True
            self.win.errors.error("Playback unavailable", reason + " Everything else keeps working.")

    def set_output_device(self, name: str) -> None:
        """Play through the output device ``name`` ("" = the system default); remembered."""
        self.win.settings.setValue("playback/device", name)
        self.player.device = name or None
        self._audio_notice_shown = False
