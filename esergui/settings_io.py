"""JSON round trip of the settings dataclasses stored with each analysis run.

:class:`JsonSettings` gives a settings dataclass (:class:`esergui.segment.VadSettings`,
:class:`esergui.speakers.SpeakerSettings`) its ``to_dict``/``from_dict``. Qt-free.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Self


def plain_settings(obj: Any) -> Any:
    """Settings as plain JSON-able values: ``to_dict()`` where the object has it, a dataclass
    as its fields, anything else (``None`` included) as it is."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return obj


class JsonSettings:
    """Mixin for a settings dataclass. ``to_dict`` gives plain JSON-able values (tuples as
    lists); ``from_dict`` is its inverse: lists become tuples again, missing keys take their
    defaults and unknown keys are ignored (settings stored by another version still load).
    The dataclass's own checks raise for bad values."""

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names})
