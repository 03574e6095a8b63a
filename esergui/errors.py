"""User-facing errors.

Every error a user can cause (a bad file, a tampered model, a missing device) is raised as a
subclass of :class:`EserError` whose message is one clear sentence, fit for a dialog or a CLI
line. Anything else reaching the top level is a bug.
"""

import errno


class EserError(Exception):
    """Base class of errors whose message is meant for the user."""


class AudioError(EserError):
    """The audio could not be read: missing, empty, corrupt, unsupported, no permission."""


class WorkspaceError(EserError):
    """The workspace folder or its database cannot be used."""


class DeviceError(EserError):
    """An audio or compute device is missing or failed."""


#: What an ``OSError``'s errno means for a user who was writing or reading a file.
_ERRNO_TEXT = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than this system allows",
    errno.EROFS: "the disk or folder is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "the file name or path is too long for this system",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.EIO: "the disk reported an input/output error",
}


def os_problem(exc: BaseException) -> str:
    """A few words saying why a file operation failed (``"the disk is full"``, ...), from an
    ``OSError``'s errno, or from the text of a libsndfile/SQLite error that carries none."""
    code = getattr(exc, "errno", None)
    if code in _ERRNO_TEXT:
        return _ERRNO_TEXT[code]
    text = str(exc).lower()
    for needle, words in (
        ("disk is full", _ERRNO_TEXT[errno.ENOSPC]),
        ("no space left", _ERRNO_TEXT[errno.ENOSPC]),
        ("readonly database", _ERRNO_TEXT[errno.EROFS]),
        ("read-only", _ERRNO_TEXT[errno.EROFS]),
        ("permission denied", _ERRNO_TEXT[errno.EACCES]),
        ("name too long", _ERRNO_TEXT[errno.ENAMETOOLONG]),
        ("disk i/o error", _ERRNO_TEXT[errno.EIO]),
    ):
        if needle in text:
            return words
    strerror = getattr(exc, "strerror", None)
    return str(strerror or exc or type(exc).__name__).strip().splitlines()[0]


# The model layer cannot import esergui, so its user-facing errors have their own base class;
# callers catch ``USER_ERRORS`` to handle both.
from model.errors import DatasetError, ModelError, ModelFileError  # noqa: E402

USER_ERRORS: tuple[type[Exception], ...] = (EserError, ModelError)

__all__ = [
    "EserError",
    "AudioError",
    "WorkspaceError",
    "DeviceError",
    "os_problem",
    "ModelError",
    "ModelFileError",
    "DatasetError",
    "USER_ERRORS",
]
