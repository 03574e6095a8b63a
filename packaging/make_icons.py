"""Render the app icon (``resources/icons/eser-studio.svg``) for desktops and bundles.

Writes, under ``packaging/icons/``:

* ``hicolor/NxN/apps/eser-studio.png`` for N in 16 ... 512 (the freedesktop icon theme sizes;
  ``install_desktop_entry.sh`` installs them with the SVG as ``scalable``),
* ``eser-studio.ico`` (Windows: 16-256 px in one file) and ``eser-studio.icns`` (macOS),
  used by ``packaging/eser-studio.spec``.

Qt's SVG renderer draws each size from the vector (no scaling of a bitmap); Pillow packs the
``.ico`` and ``.icns``. Run after changing the SVG, and commit the results::

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "eser-studio.svg"
OUT = ROOT / "packaging" / "icons"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_path(size: int, out: Path = OUT) -> Path:
    return out / "hicolor" / f"{size}x{size}" / "apps" / "eser-studio.png"


def render(size: int, svg: Path = SVG) -> QImage:
    """The SVG drawn at ``size`` x ``size`` pixels on a transparent background."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main(out: Path = OUT) -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for size in SIZES:
        path = png_path(size, out)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not render(size).save(str(path), "PNG"):
            raise SystemExit(f"make_icons: could not write {path}")
    rendered = {size: Image.open(png_path(size, out)).convert("RGBA") for size in SIZES}
    # Each size of the .ico and .icns is the one Qt drew, not a resized bitmap.
    rendered[max(ICO_SIZES)].save(
        out / "eser-studio.ico", sizes=[(s, s) for s in ICO_SIZES], append_images=[rendered[s] for s in ICO_SIZES]
    )
    rendered[max(SIZES)].save(out / "eser-studio.icns", append_images=list(rendered.values()))
    print(f"wrote {len(SIZES)} PNG sizes, eser-studio.ico and eser-studio.icns under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
