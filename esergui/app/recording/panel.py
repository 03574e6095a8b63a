"""Recording panel: device picker, level meter with clip lamp, live waveform + speech band,
elapsed time, Record / Pause / Stop, disk-space warning; and the dialog that offers to keep
recordings a crash left unfinished.

Data flow (as in ``esergui.recording``): PortAudio callback -> ring buffer -> writer thread ->
file. This panel only *reads* the ring, from a ``QTimer`` (every ``refresh_ms``), through a
:class:`esergui.recording.LiveMonitor`; the callback never touches Qt.

Wiring (the main window): ``panel.recordingFinished`` carries the finished file's path (add it
as a lesson, start analysis); call :meth:`RecordingPanel.shutdown` before the app quits; call
:func:`offer_recovery` with the recordings folder at start-up.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QRectF, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from esergui.errors import USER_ERRORS
from esergui.recording import (
    DiskStatus,
    InputDevice,
    LiveMonitor,
    Recorder,
    UnfinishedRecording,
    discard_recording,
    disk_status,
    find_unfinished,
    list_input_devices,
    pcm_bytes_per_second,
    refresh_devices,
    repair_recording,
)

SETTINGS_DEVICE = "recording/device"
METER_FLOOR_DB = -60.0
CLIP_HOLD_S = 2.0
PEAK_HOLD_S = 1.5
BLUE, GREEN, ORANGE, VERMILLION, GREY = "#0072B2", "#009E73", "#E69F00", "#D55E00", "#999999"


def format_clock(seconds: float) -> str:
    """``HH:MM:SS`` of a non-negative duration."""
    s = int(max(0.0, seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class LevelMeter(QWidget):
    """Horizontal meter, ``METER_FLOOR_DB`` to 0 dBFS: RMS bar, peak tick held ``PEAK_HOLD_S``.

    Zones: green below -18 dBFS, yellow to -6, red above; a scale is drawn under the bar.
    """

    TICKS = (-60, -50, -40, -30, -20, -12, -6, 0)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.peak_dbfs = self.rms_dbfs = METER_FLOOR_DB
        self._held_peak, self._held_at = METER_FLOOR_DB, 0.0
        self.setMinimumSize(260, 34)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Input level in dBFS: the bar is the loudness (RMS), the tick the peak. "
                        "Keep peaks out of the red; lower the microphone gain in the system settings if they are.")

    def sizeHint(self) -> QSize:
        return QSize(360, 38)

    def set_levels(self, peak_dbfs: float, rms_dbfs: float) -> None:
        self.peak_dbfs, self.rms_dbfs = peak_dbfs, rms_dbfs
        now = time.monotonic()
        if peak_dbfs >= self._held_peak or now - self._held_at > PEAK_HOLD_S:
            self._held_peak, self._held_at = peak_dbfs, now
        self.update()

    def _x(self, db: float, width: float) -> float:
        return width * (min(0.0, max(METER_FLOOR_DB, db)) - METER_FLOOR_DB) / -METER_FLOOR_DB

    def paintEvent(self, event: Any) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        w = self.width() - 1
        bar_h = max(10, self.height() - 16)
        p.fillRect(QRectF(0, 0, w, bar_h), QColor("#2b2b2b"))
        for lo, hi, colour in ((METER_FLOOR_DB, -18, GREEN), (-18, -6, "#C9B400"), (-6, 0, VERMILLION)):
            x0, x1 = self._x(lo, w), self._x(min(hi, self.rms_dbfs), w)
            if x1 > x0:
                p.fillRect(QRectF(x0, 2, x1 - x0, bar_h - 4), QColor(colour))
        if self._held_peak > METER_FLOOR_DB:
            x = self._x(self._held_peak, w)
            p.setPen(QPen(QColor("white"), 2))
            p.drawLine(int(x), 1, int(x), bar_h - 1)
        p.setPen(self.palette().text().color())
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        p.setFont(font)
        for db in self.TICKS:
            x = self._x(db, w)
            p.drawLine(int(x), bar_h, int(x), bar_h + 3)
            text = f"{db}"
            tw = p.fontMetrics().horizontalAdvance(text)
            p.drawText(int(min(max(0, x - tw / 2), w - tw)), self.height() - 1, text)
        p.end()


class LiveWaveform(QWidget):
    """Scrolling min/max waveform of the last seconds with a speech band under it."""

    def __init__(self, history_s: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history_s = history_s
        self._lo = self._hi = np.zeros(0, np.float32)
        self._speech = np.zeros(0, bool)
        self.setMinimumSize(300, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("The last seconds of audio; the green band marks speech (voice activity detection).")

    def sizeHint(self) -> QSize:
        return QSize(520, 140)

    def set_data(self, lo: np.ndarray, hi: np.ndarray, speech: np.ndarray) -> None:
        """``lo``/``hi``: per-column min/max in [-1, 1], oldest first; ``speech``: bools, oldest first."""
        self._lo, self._hi, self._speech = lo, hi, speech
        self.update()

    def paintEvent(self, event: Any) -> None:
        p = QPainter(self)
        w, h = self.width(), self.height()
        axis_h = p.fontMetrics().height() + 2
        band_h = 10
        wave_h = h - axis_h - band_h - 4
        p.fillRect(0, 0, w, wave_h, QColor("#fbfbfb"))
        p.setPen(QColor("#dddddd"))
        p.drawRect(0, 0, w - 1, wave_h)
        mid = wave_h / 2
        p.drawLine(0, int(mid), w, int(mid))
        n = len(self._hi)
        if n:
            p.setPen(QPen(QColor(BLUE), 1))
            xs = np.linspace(0, w - 1, n)
            for x, lo, hi in zip(xs, self._lo, self._hi):
                y0, y1 = mid - float(hi) * (mid - 2), mid - float(lo) * (mid - 2)
                p.drawLine(int(x), int(y0), int(x), int(max(y1, y0 + 1)))
        band_y = wave_h + 3
        p.fillRect(0, band_y, w, band_h, QColor("#eeeeee"))
        m = len(self._speech)
        if m:
            step = w / m
            green = QColor(GREEN)
            start = None
            for i, on in enumerate(list(self._speech) + [False]):
                if on and start is None:
                    start = i
                elif not on and start is not None:
                    p.fillRect(QRectF(start * step, band_y, (i - start) * step, band_h), green)
                    start = None
        p.setPen(self.palette().text().color())
        ticks = [0, 2, 4, 6, 8, 10] if self.history_s >= 10 else [0, self.history_s / 2, self.history_s]
        for t in ticks:
            x = w - 1 - (w - 1) * t / self.history_s
            text = "now" if t == 0 else f"-{t:g} s"
            tw = p.fontMetrics().horizontalAdvance(text)
            p.drawText(int(min(max(0, x - tw / 2), w - tw)), h - 3, text)
        p.end()


class RecordingPanel(QWidget):
    """Record a lesson from a microphone into ``output_dir``.

    Files are named ``lesson-YYYYmmdd-HHMMSS.<file_format>`` (``"flac"`` or ``"wav"``). The
    chosen device is remembered in ``settings`` (key ``recording/device``). ``stream_factory``
    is passed to :class:`esergui.recording.Recorder` (tests and benchmarks only);
    ``vad_settings`` (an :class:`esergui.segment.VadSettings`) sets the live speech detector's
    webrtcvad frame and aggressiveness (default: ``VadSettings()``'s).

    Signals: ``recordingStarted(str path)``; ``recordingFinished(str path)`` when a file with
    audio is complete (also after a device failure: what was recorded is kept);
    ``recordingFailed(str message)`` when recording could not start or stopped on an error;
    ``stateChanged(str state)`` with ``idle``, ``recording`` or ``paused``.
    """

    recordingStarted = Signal(str)
    recordingFinished = Signal(str)
    recordingFailed = Signal(str)
    stateChanged = Signal(str)

    def __init__(
        self,
        output_dir: str | Path,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        *,
        file_format: str = "flac",
        refresh_ms: int = 50,
        history_s: float = 10.0,
        stream_factory: Any = None,
        vad_settings: Any = None,
    ) -> None:
        super().__init__(parent)
        self.vad_settings = vad_settings
        self.output_dir = Path(output_dir)
        self.settings = settings or QSettings()
        self.file_format = file_format.lower().lstrip(".")
        self.history_s = history_s
        self._stream_factory = stream_factory
        self._recorder: Recorder | None = None
        self._monitor: LiveMonitor | None = None
        self._devices: list[InputDevice] = []
        self._clip_at = -1e9
        self.last_path: Path | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self._tick)
        self._build()
        self.reload_devices()
        self._set_state("idle")

    # ----------------------------------------------------------------------------- layout

    def _build(self) -> None:
        self.device_combo = QComboBox()
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(28)
        self.device_combo.setToolTip("The input device to record from (the system default is marked).")
        self.device_combo.currentIndexChanged.connect(self._device_changed)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("Rescan")
        self.refresh_button.setToolTip("Look for microphones plugged in since the app started "
                                       "(stops any playback).")
        self.refresh_button.clicked.connect(lambda: self.reload_devices(rescan=True))

        self.meter = LevelMeter()
        self.clip_lamp = QLabel("CLIP")
        self.clip_lamp.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.clip_lamp.setFixedWidth(44)
        self.clip_lamp.setToolTip("Lights red for two seconds when the input reached full scale (distortion).")
        self.peak_label = QLabel("")
        self.peak_label.setMinimumWidth(self.peak_label.fontMetrics().horizontalAdvance("peak -60.0 dB") + 6)

        self.waveform = LiveWaveform(self.history_s)
        self.speech_label = QLabel()
        self.elapsed_label = QLabel("00:00:00")
        font = QFont(self.elapsed_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.elapsed_label.setFont(font)
        self.elapsed_label.setToolTip("Recorded time (pauses not counted).")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.disk_label = QLabel()
        self.disk_label.setWordWrap(True)
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.record_button = QPushButton("\u25CF  Record")
        self.record_button.setStyleSheet(f"QPushButton:enabled {{ color: {VERMILLION}; font-weight: bold; }}")
        self.record_button.setToolTip("Start recording (Ctrl+R)")
        self.record_button.setShortcut("Ctrl+R")
        self.record_button.clicked.connect(self.start_recording)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause: what is said meanwhile is left out of the file")
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button = QPushButton("\u25A0  Stop")
        self.stop_button.setToolTip("Stop and keep the recording")
        self.stop_button.clicked.connect(self.stop_recording)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setHorizontalSpacing(8)
        grid.addWidget(QLabel("Microphone:"), 0, 0)
        row0 = QHBoxLayout()
        row0.addWidget(self.device_combo, 1)
        row0.addWidget(self.refresh_button)
        grid.addLayout(row0, 0, 1, 1, 3)
        grid.addWidget(QLabel("Level (dBFS):"), 1, 0)
        grid.addWidget(self.meter, 1, 1)
        grid.addWidget(self.clip_lamp, 1, 2)
        grid.addWidget(self.peak_label, 1, 3)
        grid.addWidget(self.waveform, 2, 0, 1, 4)

        info = QHBoxLayout()
        info.addWidget(self.elapsed_label)
        info.addSpacing(12)
        info.addWidget(self.speech_label)
        info.addSpacing(12)
        info.addWidget(self.status_label, 1)

        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(info)
        layout.addWidget(self.disk_label)
        layout.addWidget(self.file_label)
        layout.addLayout(buttons)
        self._show_clip(False)
        self._show_speech(False)

    # ----------------------------------------------------------------------------- devices

    def reload_devices(self, rescan: bool = False) -> None:
        """Fill the device picker; ``rescan`` re-initialises PortAudio first (idle only)."""
        if rescan and self._recorder is None:
            try:
                refresh_devices()
            except USER_ERRORS as exc:
                self._show_status(str(exc), error=True)
        try:
            self._devices = list_input_devices()
        except USER_ERRORS as exc:
            self._devices = []
            self._show_status(str(exc), error=True)
        remembered = str(self.settings.value(SETTINGS_DEVICE, "") or "")
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        for d in self._devices:
            self.device_combo.addItem(d.label(), d.key)
            self.device_combo.setItemData(self.device_combo.count() - 1,
                                          f"{d.name}\nhost API: {d.hostapi}\n{d.record_samplerate} Hz, "
                                          f"{d.max_input_channels} input channel(s)", Qt.ItemDataRole.ToolTipRole)
        keys = [d.key for d in self._devices]
        default = next((i for i, d in enumerate(self._devices) if d.is_default), 0)
        self.device_combo.setCurrentIndex(keys.index(remembered) if remembered in keys else default)
        self.device_combo.blockSignals(False)
        if not self._devices:
            self.device_combo.addItem("No input device found")
            self._show_status("No microphone found: connect one, then press Rescan.", error=True)
        self._update_buttons()
        self._device_changed()

    def selected_device(self) -> InputDevice | None:
        i = self.device_combo.currentIndex()
        return self._devices[i] if 0 <= i < len(self._devices) else None

    def select_device(self, key_or_name: str) -> bool:
        """Select the device whose key or name is ``key_or_name``; False if there is none."""
        for i, d in enumerate(self._devices):
            if key_or_name in (d.key, d.name):
                self.device_combo.setCurrentIndex(i)
                return True
        return False

    def _device_changed(self, *_: Any) -> None:
        device = self.selected_device()
        if device is None:
            return
        self._show_disk(disk_status(self.output_dir, pcm_bytes_per_second(
            device.record_samplerate, device.record_channels)))

    # ----------------------------------------------------------------------------- control

    @property
    def recorder(self) -> Recorder | None:
        """The running :class:`Recorder` (None when idle)."""
        return self._recorder

    @property
    def state(self) -> str:
        if self._recorder is None:
            return "idle"
        return "paused" if self._recorder.is_paused else "recording"

    def set_output_dir(self, folder: str | Path) -> None:
        self.output_dir = Path(folder)
        self._device_changed()

    def next_path(self) -> Path:
        """Where the next recording goes: ``output_dir/lesson-<date>-<time>.<format>``, unused."""
        stem = "lesson-" + datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.output_dir / f"{stem}.{self.file_format}"
        n = 2
        while path.exists():
            path = self.output_dir / f"{stem}-{n}.{self.file_format}"
            n += 1
        return path

    def start_recording(self) -> bool:
        """Start recording from the selected device; False (and ``recordingFailed``) on error."""
        if self._recorder is not None:
            return False
        device = self.selected_device()
        if device is None:
            self._fail("No microphone is selected.")
            return False
        path = self.next_path()
        try:
            recorder = Recorder(path, device, stream_factory=self._stream_factory)
            recorder.start()
        except USER_ERRORS as exc:
            self._fail(str(exc))
            return False
        self.settings.setValue(SETTINGS_DEVICE, device.key)
        self._recorder = recorder
        self._monitor = LiveMonitor(recorder.ring, recorder.samplerate, history_s=self.history_s,
                                    columns=max(200, min(800, self.waveform.width())),
                                    vad_settings=self.vad_settings)
        self.last_path = path
        self.file_label.setText(f"Saving to: {path}")
        self._show_disk_warning(recorder.disk_warning)
        self._show_status(f"Recording from {device.name}.")
        self._timer.start()
        self._set_state("recording")
        self.recordingStarted.emit(str(path))
        return True

    def pause_recording(self) -> None:
        if self._recorder is not None and not self._recorder.is_paused:
            self._recorder.pause()
            self._show_status("Paused: nothing is recorded until you resume.")
            self._set_state("paused")

    def resume_recording(self) -> None:
        if self._recorder is not None and self._recorder.is_paused:
            self._recorder.resume()
            self._show_status("Recording.")
            self._set_state("recording")

    def _toggle_pause(self) -> None:
        if self.state == "paused":
            self.resume_recording()
        else:
            self.pause_recording()

    def stop_recording(self) -> Path | None:
        """Stop, close the file and emit ``recordingFinished``; returns the file (None if empty)."""
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return None
        self._timer.stop()
        result = recorder.stop()
        self._monitor = None
        self._set_state("idle")
        path = result.path
        if result.error is not None:
            self._fail(str(result.error))
        if path is not None and result.frames == 0:
            path.unlink(missing_ok=True)
            self.file_label.setText("Nothing was recorded.")
            return None
        self.file_label.setText(f"Saved: {path} ({format_clock(result.seconds)})")
        if result.error is None:
            self._show_status("Stopped.")
        self.recordingFinished.emit(str(path))
        return path

    def shutdown(self) -> None:
        """Stop a running recording (keeping it); call before the window closes."""
        self.stop_recording()

    # ---------------------------------------------------------------------------- the timer

    def _tick(self) -> None:
        recorder, monitor = self._recorder, self._monitor
        if recorder is None or monitor is None:
            return
        level = monitor.update()
        if level.frames:
            self.meter.set_levels(level.peak_dbfs, level.rms_dbfs)
            self.peak_label.setText(f"peak {level.peak_dbfs:5.1f} dB" if level.peak_dbfs > METER_FLOOR_DB
                                    else "peak < -60 dB")
        if level.clipped:
            self._clip_at = time.monotonic()
        self._show_clip(time.monotonic() - self._clip_at < CLIP_HOLD_S)
        lo, hi = monitor.waveform()
        self.waveform.set_data(lo, hi, monitor.speech_history())
        self._show_speech(monitor.speech)
        self.elapsed_label.setText(format_clock(recorder.elapsed_s))
        self._show_disk_warning(recorder.disk_warning)
        if recorder.state in ("failed", "finished"):
            self.stop_recording()

    # ------------------------------------------------------------------------------ display

    def _set_state(self, state: str) -> None:
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self._update_buttons()
        self.stateChanged.emit(state)

    def _update_buttons(self) -> None:
        running = self._recorder is not None
        self.record_button.setEnabled(not running and bool(self._devices))
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.device_combo.setEnabled(not running and bool(self._devices))
        self.refresh_button.setEnabled(not running)
        if not running:
            self.meter.set_levels(METER_FLOOR_DB, METER_FLOOR_DB)
            self._show_speech(False)
            self._show_clip(False)
            self.peak_label.setText("")

    def _fail(self, message: str) -> None:
        self._show_status(message, error=True)
        self.recordingFailed.emit(message)

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {VERMILLION};" if error else "")

    def _show_clip(self, on: bool) -> None:
        self.clip_lamp.setStyleSheet(
            f"background: {VERMILLION if on else '#e6e6e6'}; color: {'white' if on else GREY}; "
            "border-radius: 3px; font-weight: bold; padding: 2px;"
        )

    def _show_speech(self, on: bool) -> None:
        self.speech_label.setText("\u25CF Speech" if on else "\u25CB No speech")
        self.speech_label.setStyleSheet(f"color: {GREEN}; font-weight: bold;" if on else f"color: {GREY};")

    def _show_disk(self, status: DiskStatus) -> None:
        if status.warning:
            self._show_disk_warning(status.warning)
        else:
            hours = status.seconds_left / 3600
            self.disk_label.setText(f"Free space in {status.folder}: {status.free_bytes / 1e9:.1f} GB "
                                    f"(about {hours:.0f} hours of recording).")
            self.disk_label.setStyleSheet(f"color: {GREY};")

    def _show_disk_warning(self, warning: str | None) -> None:
        if warning:
            self.disk_label.setText("\u26A0 " + warning)
            self.disk_label.setStyleSheet(f"color: {ORANGE}; font-weight: bold;")


# ----------------------------------------------------------------------------------- recovery

class RecoveryDialog(QDialog):
    """Lists recordings a crash left unfinished; per row: Keep (repair), Discard or Decide later.

    After ``accept()`` (or :meth:`apply`), :attr:`kept` holds the repaired files and
    :attr:`errors` the messages of those that could not be repaired.
    """

    CHOICES = ("Keep", "Discard", "Decide later")

    def __init__(self, recordings: Sequence[UnfinishedRecording], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unfinished recordings")
        self.recordings = list(recordings)
        self.kept: list[Path] = []
        self.errors: list[str] = []
        intro = QLabel("These recordings were interrupted (the app or the computer stopped while "
                       "recording). Keep them to repair the files and add them as lessons.")
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.recordings), 4)
        self.table.setHorizontalHeaderLabels(["File", "Started", "Length (about)", "Action"])
        self.table.verticalHeader().setVisible(False)
        self._combos: list[QComboBox] = []
        for row, rec in enumerate(self.recordings):
            self.table.setItem(row, 0, QTableWidgetItem(rec.path.name))
            self.table.item(row, 0).setToolTip(str(rec.path))
            self.table.setItem(row, 1, QTableWidgetItem(rec.started.replace("T", " ")))
            self.table.setItem(row, 2, QTableWidgetItem(format_clock(rec.seconds_estimate)))
            combo = QComboBox()
            combo.addItems(self.CHOICES)
            self.table.setCellWidget(row, 3, combo)
            self._combos.append(combo)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 120 + 32 * len(self.recordings))

    def set_choice(self, row: int, choice: str) -> None:
        self._combos[row].setCurrentText(choice)

    def apply(self) -> list[Path]:
        """Repair the kept, delete the discarded; returns the kept files."""
        for rec, combo in zip(self.recordings, self._combos):
            choice = combo.currentText()
            if choice == "Keep":
                try:
                    self.kept.append(repair_recording(rec).path)
                except USER_ERRORS as exc:
                    self.errors.append(str(exc))
            elif choice == "Discard":
                discard_recording(rec)
        return self.kept

    def accept(self) -> None:
        self.apply()
        super().accept()


def offer_recovery(folder: str | Path, parent: QWidget | None = None) -> list[Path]:
    """If ``folder`` holds unfinished recordings, ask what to do; returns the files kept."""
    found = find_unfinished(folder)
    if not found:
        return []
    dialog = RecoveryDialog(found, parent)
    dialog.exec()
    return dialog.kept
