"""Errors of the model layer whose message is meant for the user (no Qt, no esergui)."""


class ModelError(Exception):
    """Base class of model-layer errors with a one-sentence, user-facing message."""


class ModelFileError(ModelError):
    """A model file is missing, truncated, tampered with, or not an ESER model."""


class DatasetError(ModelError):
    """Training/evaluation data is missing, unreadable, or unusable (e.g. one class only)."""
