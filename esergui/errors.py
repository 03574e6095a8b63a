"""User-facing errors.

Every error a user can cause (a bad file, a tampered model, a missing device) is raised as a
subclass of :class:`EserError` whose message is one clear sentence, fit for a dialog or a CLI
line. Anything else reaching the top level is a bug.
"""


class EserError(Exception):
    """Base class of errors whose message is meant for the user."""


class AudioError(EserError):
    """The audio could not be read: missing, empty, corrupt, unsupported, no permission."""


class WorkspaceError(EserError):
    """The workspace folder or its database cannot be used."""


class DeviceError(EserError):
    """An audio or compute device is missing or failed."""


# The model layer cannot import esergui, so its user-facing errors have their own base class;
# callers catch ``USER_ERRORS`` to handle both.
from model.errors import DatasetError, ModelError, ModelFileError  # noqa: E402

USER_ERRORS: tuple[type[Exception], ...] = (EserError, ModelError)

__all__ = [
    "EserError", "AudioError", "WorkspaceError", "DeviceError",
    "ModelError", "ModelFileError", "DatasetError", "USER_ERRORS",
]
