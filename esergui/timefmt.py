"""How times are written for people, in one place: :func:`format_time` for a position in a
lesson (``m:ss`` / ``h:mm:ss``, optional decimals; axes, tables, panels), :func:`format_clock`
for a running clock (fixed ``HH:MM:SS``; recording), :func:`format_duration` for a rough
length (``45 s``, ``3 min``, ``1 h 05 min``; time estimates). Qt-free."""

from __future__ import annotations


def format_time(seconds: float, decimals: int = 0) -> str:
    """``3725.5 -> '1:02:05'``; ``65.25, decimals=1 -> '1:05.2'`` (negative clamps to 0). Whole
    seconds are truncated (a position shows the second it is in); with ``decimals`` the value
    is rounded first, so ``59.96`` shows ``1:00.0``, never ``0:60.0``."""
    s = max(0.0, float(seconds))
    if decimals:
        s = round(s, decimals)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    sec_txt = f"{sec:0{3 + decimals}.{decimals}f}" if decimals else f"{int(sec):02d}"
    return f"{int(h)}:{int(m):02d}:{sec_txt}" if h >= 1 else f"{int(m)}:{sec_txt}"


def format_clock(seconds: float) -> str:
    """``HH:MM:SS`` of a non-negative duration."""
    s = int(max(0.0, seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"3 min"``, ``"1 h 05 min"`` (minutes rounded, so 7190 s is ``"2 h 00 min"``)."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
