"""The workspace: a researcher's project folder with an SQLite store (see :mod:`.store`).

``Workspace.open(folder)`` is the entry point; records are in :mod:`esergui.lesson`.
"""

from esergui.errors import WorkspaceError
from esergui.workspace.edits import SpeakerMerge
from esergui.workspace.hashing import Fingerprint, fingerprint, full_hash, quick_hash
from esergui.workspace.schema import SCHEMA_VERSION
from esergui.workspace.store import DB_NAME, Disagreement, StoreReport, Workspace

__all__ = [
    "Workspace",
    "WorkspaceError",
    "StoreReport",
    "Disagreement",
    "SpeakerMerge",
    "DB_NAME",
    "SCHEMA_VERSION",
    "Fingerprint",
    "fingerprint",
    "full_hash",
    "quick_hash",
]
