"""The Record panel's live displays: a peak/RMS level meter with clip and peak hold, the
last seconds of the signal as a min/max waveform with speech shaded, and the recording clock."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from esergui.app.common.palette import OKABE_ITO

BLUE, GREEN, ORANGE, VERMILLION, GREY = (OKABE_ITO[k] for k in ("blue", "bluish_green", "orange", "vermillion", "grey"))
METER_FLOOR_DB = -60.0
CLIP_HOLD_S = 2.0
PEAK_HOLD_S = 1.5


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
        self.setToolTip(
            "Input level in dBFS: the bar is the loudness (RMS), the tick the peak. "
            "Keep peaks out of the red; lower the microphone gain in the system settings if they are."
        )

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
