"""The detail view: waveform, mel spectrogram and utterance blocks on one zoomable time axis.

Wheel zooms (time only), drag scrolls, keyboard actions call :meth:`DetailView.zoom` and
:meth:`DetailView.scroll`. The waveform is decimated to about two points per pixel, the
spectrogram is assembled from cached tiles computed in a thread pool for what is visible.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from esergui.app.common.uncertain import uncertain_rows
from esergui.app.timeline.blocks import BlocksItem, BlockText
from esergui.app.timeline.overview import AXIS_WIDTH, draw_lanes
from esergui.app.timeline.timeaxis import TimeAxisItem
from esergui.audio.envelope import Envelope, visible_waveform
from esergui.audio.spectrogram import DEFAULT_LEVELS, N_MELS, MelTiler, hop_s, level_for, mel_bin_of_hz
from esergui.lesson import UNCERTAIN
from esergui.review.lessondata import LessonData

MIN_SPAN_S = 1.0
CURSOR_COLOUR = "#00B8F0"  # cyan: stands out on magma and on white
PLAYHEAD_COLOUR = "#FF3B1F"


class _TileSignals(QObject):
    tileReady = Signal(int)  # generation
    finished = Signal(int)


class _TileJob(QRunnable):
    """Computes missing tiles one by one; stops early once a newer view is requested."""

    def __init__(self, tiler: MelTiler, level: int, indices: list[int], generation: int, current) -> None:
        super().__init__()
        self.tiler, self.level, self.indices = tiler, level, indices
        self.generation, self.current = generation, current
        self.signals = _TileSignals()
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            for i in self.indices:
                if self.current() != self.generation:
                    break
                self.tiler.tile(self.level, i)
                self.signals.tileReady.emit(self.generation)
        finally:
            self.signals.finished.emit(self.generation)


class DetailView(QWidget):
    """Signals: ``rangeChanged(t0, t1)``, ``utteranceClicked(row)``, ``utteranceActivated(row)``
    (double click), ``cursorMoved(t)``."""

    rangeChanged = Signal(float, float)
    utteranceClicked = Signal(int)
    utteranceActivated = Signal(int)
    cursorMoved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = LessonData.empty()
        self.lane_mode = "role"
        self.envelope: Envelope | None = None
        self.tiler: MelTiler | None = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._generation = 0
        self._job_running = False
        self._job_pending = False

        self.view = pg.GraphicsLayoutWidget()
        self.view.ci.setContentsMargins(0, 4, 0, 0)
        self.view.ci.setSpacing(2)
        self.wave_plot = self.view.addPlot(row=0, col=0)
        self.spec_plot = self.view.addPlot(row=1, col=0)
        self.lanes_plot = self.view.addPlot(row=2, col=0, axisItems={"bottom": TimeAxisItem()})
        lay = self.view.ci.layout
        lay.setRowStretchFactor(0, 2)
        lay.setRowStretchFactor(1, 4)
        lay.setRowStretchFactor(2, 2)
        self.plots = (self.wave_plot, self.spec_plot, self.lanes_plot)
        for plot in self.plots:
            plot.setMouseEnabled(x=True, y=False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            if plot is not self.lanes_plot:
                plot.setXLink(self.lanes_plot)
                plot.hideAxis("bottom")  # one time axis, under the lanes
        self.wave_plot.setLabel("left", "wave")
        self.wave_plot.getAxis("left").enableAutoSIPrefix(False)
        self.wave_plot.setToolTip(
            "Waveform (min/max per pixel). Wheel: zoom · drag: scroll · click: set the play cursor"
        )
        self.wave_curve = pg.PlotDataItem(pen=pg.mkPen("#0072B2", width=1), connect="all", antialias=False)
        self.wave_plot.addItem(self.wave_curve)
        self.wave_plot.setYRange(-1, 1, padding=0.05)

        self.spec_plot.setLabel("left", "Hz (mel)")
        ticks = [
            (mel_bin_of_hz(f), lab)
            for f, lab in (
                (100, "100"),
                (250, "250"),
                (500, "500"),
                (1000, "1k"),
                (2000, "2k"),
                (4000, "4k"),
                (8000, "8k"),
            )
        ]
        self.spec_plot.getAxis("left").setTicks([ticks])
        self.spec_plot.setYRange(0, N_MELS, padding=0)
        self.spec_plot.setToolTip(
            "Mel spectrogram of the visible range (computed on demand); colour bar in dB re full scale"
        )
        self.spec_image = pg.ImageItem(axisOrder="col-major")
        self.spec_plot.addItem(self.spec_image)
        self.colour_bar = pg.ColorBarItem(
            values=DEFAULT_LEVELS, colorMap=pg.colormap.get("magma"), label="dB", interactive=True, width=14
        )
        self.colour_bar.setImageItem(self.spec_image)
        self.view.addItem(self.colour_bar, row=1, col=1)

        self.lanes_plot.invertY(True)
        self.lanes_plot.setToolTip(
            "Utterances coloured by emotion (opacity = confidence). Click to select, double-click to play"
        )
        self.blocks = BlocksItem(show_text=True)
        self.blocks.clicked.connect(self._on_block_clicked)
        self.blocks.doubleClicked.connect(self.utteranceActivated)
        self.lanes_plot.addItem(self.blocks)

        # solid and bright enough to see over the dark spectrogram as over the white lanes
        self.playheads = [
            pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(PLAYHEAD_COLOUR, width=3)) for _ in self.plots
        ]
        self.cursors = [
            pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(CURSOR_COLOUR, width=2)) for _ in self.plots
        ]
        for plot, ph, cur in zip(self.plots, self.playheads, self.cursors):
            ph.setVisible(False)
            ph.setZValue(20)
            cur.setZValue(19)
            plot.addItem(ph, ignoreBounds=True)
            plot.addItem(cur, ignoreBounds=True)
        self.cursor_time = 0.0

        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self._refresh_wave)
        self._spec_timer = QTimer(self, singleShot=True, interval=40)
        self._spec_timer.timeout.connect(self._refresh_spec)
        self.lanes_plot.sigXRangeChanged.connect(self._on_range)
        self.view.scene().sigMouseClicked.connect(self._on_scene_click)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setMinimumHeight(260)
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view.installEventFilter(self)

    KEYS = {
        Qt.Key.Key_Plus: ("zoom", 0.5),
        Qt.Key.Key_Equal: ("zoom", 0.5),
        Qt.Key.Key_Minus: ("zoom", 2.0),
        Qt.Key.Key_Left: ("scroll", -0.25),
        Qt.Key.Key_Right: ("scroll", 0.25),
        Qt.Key.Key_PageUp: ("scroll", -0.9),
        Qt.Key.Key_PageDown: ("scroll", 0.9),
    }

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        if (
            obj is self.view
            and event.type() == QEvent.Type.KeyPress
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            key = event.key()
            if key in self.KEYS:
                what, amount = self.KEYS[key]
                self.zoom(amount) if what == "zoom" else self.scroll(amount)
                return True
            if key in (Qt.Key.Key_Home, Qt.Key.Key_End):
                t0, t1 = self.visible_range()
                start = 0.0 if key == Qt.Key.Key_Home else self.data.duration_s - (t1 - t0)
                self.set_range(start, start + (t1 - t0))
                return True
        return super().eventFilter(obj, event)

    # ---------------------------------------------------------------- data
    def set_lesson(self, data: LessonData, keep_range: bool = False) -> None:
        old = self.visible_range()
        same_audio = self.data.source is data.source
        self.data = data
        if not same_audio:
            self.envelope = None
            self.tiler = MelTiler(data.source) if data.source is not None else None
            self._generation += 1
        dur = max(data.duration_s, MIN_SPAN_S)
        for plot in self.plots:
            plot.vb.setLimits(xMin=0, xMax=dur, minXRange=min(MIN_SPAN_S, dur), maxXRange=dur)
        self._redraw_blocks()
        if keep_range and old[1] > old[0]:
            self.set_range(*old)
        else:
            self.set_range(0, min(dur, 60.0))
        self._schedule()

    def set_envelope(self, envelope: Envelope | None) -> None:
        self.envelope = envelope
        if envelope is not None and len(envelope.maxs):
            peak = float(max(abs(envelope.mins.min()), envelope.maxs.max(), 1e-3))
            self.wave_plot.setYRange(-peak, peak, padding=0.05)
        self._schedule()

    def set_lane_mode(self, mode: str) -> None:
        self.lane_mode = mode
        self._redraw_blocks()

    def _redraw_blocks(self) -> None:
        data = self.data
        texts: list[BlockText] = []
        unsure = uncertain_rows(data)
        for i in range(len(data)):
            name = data.label_name(i)
            conf = data.confidence[i]
            if unsure[i]:  # the model's guess stays visible, never as a label
                texts.append((f"{UNCERTAIN} ({name}? {conf:.0%})", UNCERTAIN))
                continue
            full = f"{name} {conf:.0%}" if name and not np.isnan(conf) else name
            texts.append((full, name) if name else ())
        draw_lanes(self.lanes_plot, self.blocks, data, self.lane_mode, texts)

    # --------------------------------------------------------------- range
    def visible_range(self) -> tuple[float, float]:
        (x0, x1), _ = self.lanes_plot.vb.viewRange()
        return float(x0), float(x1)

    def set_range(self, t0: float, t1: float) -> None:
        dur = max(self.data.duration_s, MIN_SPAN_S)
        span = min(max(t1 - t0, min(MIN_SPAN_S, dur)), dur)
        t0 = min(max(0.0, t0), dur - span)
        self.lanes_plot.setXRange(t0, t0 + span, padding=0)

    def zoom(self, factor: float, center: float | None = None) -> None:
        """Zoom in (``factor < 1``) or out around ``center`` (default: the middle)."""
        t0, t1 = self.visible_range()
        c = (t0 + t1) / 2 if center is None else center
        self.set_range(c - (c - t0) * factor, c + (t1 - c) * factor)

    # ignore[override]: a scroll of its own (a fraction of the visible span); QWidget.scroll (pixels) is unused here
    def scroll(self, fraction: float) -> None:  # type: ignore[override]
        """Scroll by ``fraction`` of the visible span (negative: earlier)."""
        t0, t1 = self.visible_range()
        d = (t1 - t0) * fraction
        self.set_range(t0 + d, t1 + d)

    def show_all(self) -> None:
        self.set_range(0, self.data.duration_s)

    def zoom_to(self, t0: float, t1: float) -> None:
        """Show ``[t0, t1]`` with a small margin each side (zoom to selection)."""
        pad = 0.05 * max(t1 - t0, MIN_SPAN_S)
        self.set_range(t0 - pad, t1 + pad)

    def ensure_visible(self, t0: float, t1: float) -> None:
        """Scroll (zooming out only if needed) so ``[t0, t1]`` is on screen with some margin."""
        v0, v1 = self.visible_range()
        span = v1 - v0
        if t1 - t0 > 0.9 * span:
            pad = 0.1 * (t1 - t0)
            self.set_range(t0 - pad, t1 + pad)
        elif t0 < v0 or t1 > v1:
            mid = (t0 + t1) / 2
            self.set_range(mid - span / 2, mid + span / 2)

    def _on_range(self, *_) -> None:
        t0, t1 = self.visible_range()
        self.rangeChanged.emit(t0, t1)
        self._schedule()

    def _schedule(self) -> None:
        self._refresh_timer.start()
        self._spec_timer.start()

    # ------------------------------------------------------------ painting
    def _refresh_wave(self) -> None:
        t0, t1 = self.visible_range()
        width = int(self.wave_plot.vb.width()) or 800
        x, y = visible_waveform(self.data.source, self.envelope, t0, t1, width)
        self.wave_curve.setData(x, y)

    def _refresh_spec(self) -> None:
        if self.tiler is None:
            self.spec_image.clear()
            return
        t0, t1 = self.visible_range()
        width = int(self.spec_plot.vb.width()) or 800
        level = level_for(t1 - t0, width)
        image, start, missing = self.tiler.assemble(t0, t1, level)
        self.spec_image.setImage(image, autoLevels=False)
        self.spec_image.setRect(start, 0, image.shape[0] * hop_s(level), N_MELS)
        lo, hi = self.colour_bar.levels()
        self.spec_image.setLevels((lo, hi))
        if missing:
            self._request_tiles(self.tiler, level, missing)

    def _request_tiles(self, tiler: MelTiler, level: int, missing: list[int]) -> None:
        if self._job_running:
            self._job_pending = True
            self._generation += 1  # makes the running job stop after its current tile
            return
        self._job_running = True
        self._job_pending = False
        gen = self._generation
        job = _TileJob(tiler, level, missing, gen, lambda: self._generation)
        job.signals.tileReady.connect(self._on_tile_ready)
        job.signals.finished.connect(self._on_job_finished)
        self._job_signals = job.signals  # keep the emitter alive until it is done
        self.pool.start(job)

    def _on_tile_ready(self, generation: int) -> None:
        if generation == self._generation:
            self._spec_timer.start(0)

    def _on_job_finished(self, _generation: int) -> None:
        self._job_running = False
        if self._job_pending:
            self._job_pending = False
            self._spec_timer.start(0)

    def render_now(self) -> None:
        """Bring the waveform and the spectrogram of the visible range up to date at once,
        computing missing tiles here (before exporting a picture)."""
        self._refresh_wave()
        if self.tiler is not None:
            t0, t1 = self.visible_range()
            level = level_for(t1 - t0, int(self.spec_plot.vb.width()) or 800)
            for index in self.tiler.assemble(t0, t1, level)[2]:
                self.tiler.tile(level, index)
        self._refresh_spec()

    def wait_for_tiles(self, timeout_ms: int = 10000) -> bool:
        """Block until the tile thread is idle (tests and benchmarks)."""
        return self.pool.waitForDone(timeout_ms)

    # -------------------------------------------------------- selection etc.
    def set_selected_rows(self, rows) -> None:
        self.blocks.set_selected(rows)

    def set_playhead(self, t: float | None) -> None:
        for ph in self.playheads:
            ph.setVisible(t is not None)
            if t is not None:
                ph.setValue(t)

    def set_cursor(self, t: float, emit: bool = True) -> None:
        self.cursor_time = float(min(max(0.0, t), self.data.duration_s))
        for cur in self.cursors:
            cur.setValue(self.cursor_time)
        if emit:
            self.cursorMoved.emit(self.cursor_time)

    def _on_block_clicked(self, row: int) -> None:
        """A click on a block selects it and puts the cursor where the click was (so X splits
        there, not at the block's start)."""
        self.set_cursor(self.blocks.last_click_x)
        self.utteranceClicked.emit(row)

    def _on_scene_click(self, ev) -> None:
        if ev.isAccepted() or ev.button() != Qt.MouseButton.LeftButton:
            return
        for plot in self.plots:
            if plot.vb.sceneBoundingRect().contains(ev.scenePos()):
                self.set_cursor(float(plot.vb.mapSceneToView(ev.scenePos()).x()))
                return

    def shutdown(self) -> None:
        """Stop background tile work (call before the window closes)."""
        self._generation += 1
        self.pool.waitForDone(3000)
