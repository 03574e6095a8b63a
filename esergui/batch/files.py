"""Writing batch files, all or nothing (:func:`esergui.formats.files.write_atomic`): CSV through
the project's one CSV writer (:mod:`esergui.formats.csvout`), Parquet (pyarrow) and JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from esergui.formats.csvout import write_csv
from esergui.formats.files import write_atomic, write_text


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    return write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))


def write_json(value: Any, path: str | Path) -> Path:
    """Strict JSON: a figure that is not a number (NaN, infinite: e.g. a wait time in a lesson
    without questions) is written as ``null``, as in every other JSON file of the project."""
    return write_text(path, json.dumps(_finite(value), indent=1, default=str, allow_nan=False))


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float (also in dicts, lists and tuples) as ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


__all__ = ["write_csv", "write_json", "write_parquet"]
