"""The workspace: a researcher's project folder with an SQLite store (see :mod:`.store` and the parts it is made of).

``Workspace.open(folder)`` is the entry point; records are in :mod:`esergui.lesson`.
"""

from esergui.errors import WorkspaceError
from esergui.workspace.analysis import StoreReport
from esergui.workspace.connection import DB_NAME
from esergui.workspace.hashing import Fingerprint, fingerprint, full_hash, quick_hash
from esergui.workspace.reading import Disagreement
from esergui.workspace.schema import SCHEMA_VERSION
from esergui.workspace.speaker_edits import SpeakerMerge
from esergui.workspace.store import Workspace

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
