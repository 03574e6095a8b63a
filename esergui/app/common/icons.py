"""Icons from ``resources/icons`` (SVG), looked up by name and cached."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from esergui.paths import RESOURCES_DIR

ICONS_DIR = RESOURCES_DIR / "icons"


@cache
def icon(name: str) -> QIcon:
    """``icon("play")`` -> the icon of ``resources/icons/play.svg`` (an empty icon if missing)."""
    path = ICONS_DIR / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
