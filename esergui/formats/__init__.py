"""Researchers' formats, out and in (Qt-free): CSV, ELAN, Praat, RTTM, Audacity labels, JSON.

=============================== ============================================================
:mod:`~esergui.formats.csvout`  the one CSV writer (quoting, formula neutralisation, rounding,
                                BOM / semicolon options); every CSV of the project uses it
:mod:`~esergui.formats.files`   all-or-nothing file writes, :class:`ExportError`
:mod:`~esergui.formats.names`   :func:`output_stem`: unique, readable file names
:mod:`~esergui.formats.tables`  the utterances / summary / bins tables
:mod:`~esergui.formats.tiers`   utterances <-> tiers (layouts, overlap clipping, tier choice)
:mod:`~esergui.formats.eaf`     ELAN ``.eaf`` (pympi-ling)
:mod:`~esergui.formats.textgrid` Praat TextGrid (praatio)
:mod:`~esergui.formats.lines`   RTTM and Audacity labels
:mod:`~esergui.formats.jsonfmt` lesson JSON
:mod:`~esergui.formats.exporting` :func:`export_lesson`, :func:`export_workspace`
:mod:`~esergui.formats.importing` :func:`read_annotations`, :func:`apply_to_lesson`
=============================== ============================================================

User guide: ``docs/FORMATS.md``; every CSV column: ``docs/DATA_DICTIONARY.md``.
"""

from esergui.formats.csvout import CsvOptions, neutralise
from esergui.formats.files import ExportError
from esergui.formats.names import output_stem

__all__ = ["CsvOptions", "ExportError", "neutralise", "output_stem"]
