"""Where things live: bundled resources, the bundled model, the shared research data."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
#: Icons, stylesheet, demo lesson: inside the package in a wheel install (setup.py puts them
#: there), beside the packages in a checkout and in the PyInstaller bundle.
RESOURCES_DIR = next(
    (d for d in (PACKAGE_DIR / "resources", PROJECT_DIR / "resources") if d.is_dir()), PROJECT_DIR / "resources"
)
DEMO_LESSON = RESOURCES_DIR / "demo" / "demo_lesson.ogg"

#: Environment variable naming the folder that holds ``emodb/`` and ``conversation/``.
SHARED_DATA_ENV = "ESER_SHARED_DATA"


def shared_data_dir() -> Path:
    """The research data folder: ``$ESER_SHARED_DATA`` or ``../shared/data`` beside the checkout."""
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return (PROJECT_DIR.parent / "shared" / "data").resolve()


def emodb_dir() -> Path:
    """EmoDB: ``wav/`` with 535 files and ``labels.csv``."""
    return shared_data_dir() / "emodb"


def conversation_dir() -> Path:
    """The two-speaker conversation sample: ``sample.wav`` and ``sample.rttm``."""
    return shared_data_dir() / "conversation"
