"""Provenance of batch outputs: which program, model and settings produced a row, and when.

Every row of the batch tables and every per-lesson file carries :data:`PROVENANCE_COLUMNS`:
``program_version`` (``esergui.__version__``), ``model_name`` and ``model_sha256`` (SHA-256 of
the model file's bytes), ``settings_hash`` (SHA-256 of the canonical JSON of the analysis and
summary settings, defaults filled in, so a changed default changes the hash) and
``analysed_at`` (UTC, ISO-8601). A lesson's *resume key* is its audio content hash plus the
settings hash plus the model hash: a lesson is analysed again exactly when one of them changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from esergui import __version__
from esergui.settings_io import plain_settings
from esergui.summary import SummarySettings

PROVENANCE_COLUMNS = ("program_version", "model_name", "model_sha256", "settings_hash", "analysed_at")
_SUMMARY_DEFAULTS = SummarySettings()


def settings_fingerprint(pipeline_settings: Any, summary: SummarySettings = _SUMMARY_DEFAULTS) -> dict[str, Any]:
    """The settings that decide a lesson's outputs, defaults filled in (device, model path
    and batch size are left out: the model is identified by its hash, the rest changes speed)."""
    from esergui.segment import VadSettings
    from esergui.speakers import SpeakerSettings

    return {
        "vad": plain_settings(pipeline_settings.vad or VadSettings()),
        "speakers": plain_settings(pipeline_settings.speakers or SpeakerSettings()),
        "summary": plain_settings(summary),
    }


def settings_hash(pipeline_settings: Any, summary: SummarySettings = _SUMMARY_DEFAULTS) -> str:
    """SHA-256 (hex) of :func:`settings_fingerprint` as key-sorted compact JSON."""
    text = json.dumps(
        settings_fingerprint(pipeline_settings, summary), sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    from esergui.workspace.hashing import full_hash

    return full_hash(path)


def resume_key(audio_sha256: str, settings_sha256: str, model_sha256: str) -> str:
    """One hash naming a lesson's analysis: same audio, same settings, same model."""
    return hashlib.sha256(f"{audio_sha256}|{settings_sha256}|{model_sha256}".encode()).hexdigest()


@dataclass(frozen=True)
class Provenance:
    """What produced an output (see the module doc); ``columns()`` gives its row cells."""

    model_name: str
    model_sha256: str
    settings_hash: str
    analysed_at: str
    program_version: str = __version__

    def columns(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in PROVENANCE_COLUMNS}
