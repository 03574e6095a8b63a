"""Build hook: a wheel carries the checkout's top-level ``resources/`` inside the package.

The icons, the stylesheet and the demo lesson live in ``resources/`` beside the packages (the
app, the docs and the scripts name them there). ``build_py`` copies that folder into
``esergui/resources/`` of the build, so an installed ``esergui.paths.RESOURCES_DIR`` finds them;
scripts (``*.py``) that make the resources stay out. An editable install reads the checkout's
folder, and everything else about the build is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"
LEFT_OUT = shutil.ignore_patterns("*.py", "__pycache__", "*.pyc")


class BuildPyWithResources(build_py):
    """``build_py`` that also copies ``resources/`` to ``<build>/esergui/resources/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False) or not RESOURCES.is_dir():
            return
        target = Path(self.build_lib) / "esergui" / "resources"
        shutil.rmtree(target, ignore_errors=True)  # no stale files from an earlier build
        shutil.copytree(RESOURCES, target, ignore=LEFT_OUT)


setup(cmdclass={"build_py": BuildPyWithResources})
