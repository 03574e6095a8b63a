"""A Python environment without Qt: a ``sitecustomize`` on ``PYTHONPATH`` makes importing PySide6,
shiboken6 or pyqtgraph raise ImportError, in the process and its children (the layer rule's
tests and the batch tests run the Qt-free code in it)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = textwrap.dedent(
    """
    import sys

    class _NoQt:
        BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.BLOCKED:
                raise ImportError(f"{name} is blocked: this process must run without Qt")
            return None

    sys.meta_path.insert(0, _NoQt())
    """
)


def no_qt_env(folder: Path) -> dict[str, str]:
    """An environment whose Python processes (and their children) cannot import Qt; one torch
    thread per process."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("QT_QPA_PLATFORM", None)
    return env
