"""Writing a report or figure file: the format from the suffix, fonts embedded as text (so a
PDF's words can be searched and copied, and an SVG's edited), clear one-line errors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from esergui import __version__
from esergui.errors import EserError, os_problem

FORMATS = ("pdf", "png", "svg")


class ReportError(EserError):
    """A report or figure cannot be made or written."""


def output_format(path: str | Path, fmt: str | None, allowed: Sequence[str] = FORMATS) -> str:
    """``fmt`` (lower-cased) or, when None, the suffix of ``path``; one of ``allowed``."""
    chosen = (fmt or Path(path).suffix.lstrip(".")).lower()
    if chosen not in allowed:
        what = f"format {fmt!r}" if fmt else f"the file name {Path(path).name!r}"
        raise ReportError(f"cannot tell the output format from {what}: use " + ", ".join(f".{a}" for a in allowed))
    return chosen


def save_figure(
    fig: Figure,
    path: str | Path,
    fmt: str | None = None,
    dpi: int = 300,
    allowed: Sequence[str] = FORMATS,
    title: str = "",
    subject: str = "",
) -> Path:
    """Save ``fig`` to ``path`` (folders created) and return the path."""
    out = Path(path)
    kind = output_format(out, fmt, allowed)
    if not 30 <= dpi <= 2400:
        raise ReportError(f"a resolution of {dpi} dpi is out of range (30-2400)")
    metadata = (
        {"Creator": f"ESER Studio {__version__}"}
        if kind in ("pdf", "svg")
        else {"Software": f"ESER Studio {__version__}"}
    )
    if title:
        metadata["Title"] = title
    if subject and kind == "pdf":
        metadata["Subject"] = subject
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with matplotlib.rc_context({"pdf.fonttype": 42, "svg.fonttype": "none"}):
            fig.savefig(out, format=kind, dpi=dpi, metadata=metadata, facecolor="white")
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {os_problem(exc)}") from None
    return out
