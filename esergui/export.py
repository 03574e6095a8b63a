"""Compatibility names for code written before :mod:`esergui.formats` (use that package)."""

from esergui.formats.csvout import CsvOptions, neutralise, write_csv
from esergui.formats.exporting import (
    EXPORT_FORMATS,
    ExportOptions,
    LessonExport,
    export_lesson,
    export_workspace,
    write_summaries,
)
from esergui.formats.files import ExportError
from esergui.formats.names import output_stem
from esergui.formats.tables import TRAILING_COLUMNS, UTTERANCE_COLUMNS, utterances_frame

__all__ = [
    "EXPORT_FORMATS",
    "TRAILING_COLUMNS",
    "UTTERANCE_COLUMNS",
    "CsvOptions",
    "ExportError",
    "ExportOptions",
    "LessonExport",
    "export_lesson",
    "export_workspace",
    "neutralise",
    "output_stem",
    "utterances_frame",
    "write_csv",
    "write_summaries",
]
