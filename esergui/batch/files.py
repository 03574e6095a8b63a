"""Writing batch files, all or nothing (:func:`esergui.formats.files.write_atomic`): CSV through
the project's one CSV writer (:mod:`esergui.formats.csvout`), Parquet (pyarrow) and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from esergui.formats.csvout import write_csv
from esergui.formats.files import write_atomic, write_text


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    return write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))


def write_json(value: Any, path: str | Path) -> Path:
    """JSON (NaN written as ``NaN``, which Python's reader takes back)."""
    return write_text(path, json.dumps(value, indent=1, default=str))


__all__ = ["write_csv", "write_json", "write_parquet"]
