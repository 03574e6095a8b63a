"""A window that fits its screen: the first-run size and any restored or grown geometry are
clamped to the screen's available area (a 1366x768 laptop sees the whole window, status bar
included). Pure rectangle arithmetic, testable with any ``QRect``."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

#: The size the window asks for on a large screen at first start.
PREFERRED = QSize(1500, 940)
#: Room kept for the window frame (title bar, borders) that ``geometry()`` does not include.
FRAME = QSize(8, 38)


def _client_area(available: QRect) -> QRect:
    """Where a window's client area may lie: ``available`` less the title bar and borders."""
    border = FRAME.width() // 2
    title = FRAME.height() - border
    return QRect(
        available.x() + border,
        available.y() + title,
        max(1, available.width() - FRAME.width()),
        max(1, available.height() - FRAME.height()),
    )


def default_geometry(available: QRect) -> QRect:
    """First-run geometry: :data:`PREFERRED` or the available area less the frame, whichever
    is smaller, centred in it."""
    area = _client_area(available)
    w, h = min(PREFERRED.width(), area.width()), min(PREFERRED.height(), area.height())
    return QRect(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2, w, h)


def fitted(rect: QRect, available: QRect) -> QRect:
    """``rect`` (a client geometry) shrunk to fit ``available`` with its frame and moved inside it."""
    area = _client_area(available)
    w, h = min(rect.width(), area.width()), min(rect.height(), area.height())
    x = min(max(rect.x(), area.x()), area.x() + area.width() - w)
    y = min(max(rect.y(), area.y()), area.y() + area.height() - h)
    return QRect(x, y, max(1, w), max(1, h))


def available_geometry(widget: QWidget) -> QRect:
    """The available area (screen less task bars) of the screen ``widget`` is on."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, PREFERRED.width(), PREFERRED.height())


def fit_window(widget: QWidget, available: QRect | None = None) -> QRect:
    """Clamp a top-level window to ``available`` (default: its screen's); returns the new
    geometry. A maximised or full-screen window is left as it is."""
    if widget.isMaximized() or widget.isFullScreen():
        return widget.geometry()
    area = available if available is not None else available_geometry(widget)
    geometry = fitted(widget.geometry(), area)
    if geometry != widget.geometry():
        widget.setGeometry(geometry)
    return geometry
