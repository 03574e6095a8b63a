"""Lesson reports and paper figures, headless (matplotlib, no Qt).

::

    from esergui.report import from_workspace, lesson_report, figure_export
    lesson = from_workspace(ws, "demo_lesson")            # or from_analysis(pipeline result)
    lesson_report(lesson, None, "demo.pdf")                # one A4 page, PDF or PNG
    figure_export(lesson, "fig.svg", start_s=60, end_s=180, size="180x60mm", dpi=600)

What each figure means, and its limits: ``docs/REPORT.md``.
"""

from esergui.report.page import lesson_report, render_report
from esergui.report.paper import FigureSize, figure_export, parse_time, render_figure
from esergui.report.save import ReportError
from esergui.report.source import ReportLesson, find_lesson, from_analysis, from_workspace

__all__ = [
    "FigureSize",
    "ReportError",
    "ReportLesson",
    "figure_export",
    "find_lesson",
    "from_analysis",
    "from_workspace",
    "lesson_report",
    "parse_time",
    "render_figure",
    "render_report",
]
