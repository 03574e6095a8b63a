"""The one CSV writer of ESER Studio: every CSV the app and the CLI write comes from here.

Format (RFC 4180): a header row, then one row per record; rows end in ``\\r\\n``; UTF-8.

**Spreadsheet safety** (CSV/formula injection, OWASP): a spreadsheet runs a cell as a formula
when it starts with ``=``, ``+``, ``-`` or ``@`` (and some also after a leading tab, carriage
return or line feed), and a bare carriage return inside an unquoted cell starts a new row
there. So, for every text cell and every column name:

* the text is always put in double quotes (a ``"`` inside is doubled), so a comma, semicolon,
  tab, carriage return or line feed stays inside its cell;
* a carriage return (alone or as ``\\r\\n``) inside the text becomes a line feed, so no
  reader can take it for the end of a row;
* text that starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed
  gets a leading ``'`` (shown by spreadsheets as text, never run), unless the whole text is a
  plain number such as ``-3.5`` (which no spreadsheet runs). :func:`esergui.agreement.read_csv`
  and :mod:`esergui.formats.csvin` take the ``'`` off again.

Numbers are written unquoted, rounded per column (:func:`decimals_for`: seconds to the
millisecond, probabilities to 4 places, percentages to 2), in plain notation without trailing
zeros; empty, ``None`` and NaN cells are empty. Booleans are ``1``/``0``.

Options (:class:`CsvOptions`): ``bom`` starts the file with a UTF-8 byte-order mark (Excel on
Windows then reads non-ASCII letters right); ``semicolon`` uses ``;`` between cells and a
decimal comma (``0,25``), as spreadsheets set to many European locales expect.

Files are written all or nothing (:func:`esergui.formats.files.write_atomic`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from esergui.formats.files import write_bytes

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
ROW_END = "\r\n"


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV is written for its reader (module doc)."""

    bom: bool = False
    semicolon: bool = False

    @property
    def delimiter(self) -> str:
        return ";" if self.semicolon else ","

    @property
    def decimal(self) -> str:
        return "," if self.semicolon else "."


def neutralise(value: Any) -> Any:
    """A cell value no spreadsheet will run as a formula (module doc); non-text is returned as is."""
    if not isinstance(value, str):
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def decimals_for(column: str) -> int:
    """Decimal places a numeric column is rounded to, by its name (docs/DATA_DICTIONARY.md):
    seconds (``*_s``, ``*_s_*``) 3; percentages (``*_pct*``) 2; per-minute rates 3;
    everything else (probabilities, confidences, arousal/valence, thresholds) 4."""
    name = column.lower()
    if "_pct" in name:
        return 2
    if name.endswith(("_s", "_per_min")) or "_s_" in name:
        return 3
    return 4


def format_number(value: float, decimals: int, decimal: str = ".") -> str:
    """``value`` rounded to ``decimals`` places, plain notation, no trailing zeros."""
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", decimal) if decimal != "." else text


def format_cell(value: Any, decimals: int = 4, options: CsvOptions = CsvOptions()) -> str:
    """One cell as it appears in the file (quoted and neutralised text, formatted numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "1" if value else "0"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        return format_number(float(value), decimals, options.decimal)
    if _is_missing(value):
        return ""
    text = neutralise(str(value))
    return '"' + text.replace('"', '""') + '"'


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (ImportError, TypeError, ValueError):
        return False


def csv_text(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    options: CsvOptions = CsvOptions(),
    decimals: Sequence[int] | None = None,
) -> str:
    """The whole CSV as text (no BOM): header, then ``rows`` (each as long as ``columns``).
    ``decimals`` per column, default :func:`decimals_for` of each column name."""
    places = list(decimals) if decimals is not None else [decimals_for(str(c)) for c in columns]
    sep = options.delimiter
    lines = [sep.join(format_cell(str(c), 0, options) for c in columns)]
    for row in rows:
        lines.append(sep.join(format_cell(v, d, options) for v, d in zip(row, places)))
    return ROW_END.join(lines) + ROW_END


def frame_text(frame: Any, options: CsvOptions = CsvOptions()) -> str:
    """A pandas DataFrame (no index) as CSV text."""
    columns = [str(c) for c in frame.columns]
    return csv_text(columns, frame.itertuples(index=False, name=None), options)


def encode(text: str, options: CsvOptions = CsvOptions()) -> bytes:
    return ("\ufeff" + text if options.bom else text).encode("utf-8")


def write_rows(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], path: str | Path, options: CsvOptions = CsvOptions()
) -> Path:
    """Write a CSV of ``rows`` under ``columns`` to ``path``, all or nothing."""
    return write_bytes(path, encode(csv_text(columns, rows, options), options))


def write_csv(frame: Any, path: str | Path, options: CsvOptions = CsvOptions()) -> Path:
    """Write a pandas DataFrame (no index) to ``path``, all or nothing. Raises
    :class:`esergui.formats.files.ExportError` with the cause in words."""
    return write_bytes(path, encode(frame_text(frame, options), options))
