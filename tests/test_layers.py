"""The layer rule: everything outside ``esergui/app/`` imports and runs with no Qt at all.

A subprocess gets a ``sitecustomize`` on ``PYTHONPATH`` that makes importing PySide6,
shiboken6 or pyqtgraph raise ImportError; in it, every Qt-free module is imported and
``esergui analyze`` runs on real speech.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tests.no_qt_support import ROOT, no_qt_env

IMPORT_ALL = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    import esergui, model
    failed, done = {}, []
    for pkg in (esergui, model):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if info.name.startswith("esergui.app"):
                continue
            try:
                importlib.import_module(info.name)
                done.append(info.name)
            except Exception as exc:
                failed[info.name] = f"{type(exc).__name__}: {exc}"
    try:
        import PySide6  # noqa: F401
        blocked = False
    except ImportError:
        blocked = True
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph"))
    print(json.dumps({"failed": failed, "done": done, "blocked": blocked, "qt": qt}))
    """
)


@pytest.fixture(scope="module")
def no_qt(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return no_qt_env(tmp_path_factory.mktemp("noqt"))


def test_qt_free_modules_import_without_qt(no_qt: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=ROOT, env=no_qt, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["blocked"], "the blocker did not block PySide6"
    assert result["failed"] == {}
    assert result["qt"] == []
    for name in (
        "esergui.lesson",
        "esergui.workspace.store",
        "esergui.summary",
        "esergui.formats.exporting",
        "esergui.pipeline",
        "esergui.commands.analyze",
        "esergui.cli",
    ):
        assert name in result["done"]


def test_analyze_runs_without_qt(no_qt: dict[str, str], conversation: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = no_qt
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "esergui",
            "analyze",
            str(conversation / "sample.wav"),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "blocked" not in proc.stderr
    table = pd.read_csv(out / "sample_utterances.csv")
    assert len(table) >= 3 and (table["end_s"] > table["start_s"]).all()
    version = subprocess.run(
        [sys.executable, "-m", "esergui", "--version"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("esergui ")


def test_the_no_qt_test_run(tmp_path: Path) -> None:
    """``ESER_BLOCK_QT=1 pytest -p no:pytest-qt -m "not qt" tests/`` (``tests/conftest.py``): every
    test module is collected with Qt imports blocked, GUI modules (``pytestmark = pytest.mark.qt``)
    are left out without being imported, and a representative subset of the non-GUI tests runs
    and passes."""
    env = dict(os.environ, ESER_BLOCK_QT="1", OMP_NUM_THREADS="1")
    env.pop("QT_QPA_PLATFORM", None)
    junit = tmp_path / "noqt.xml"
    subset = "test_audio_pcm or test_summary or test_agreement"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:pytest-qt",
            "-p",
            "no:cacheprovider",
            "-m",
            "not qt",
            "-k",
            subset,
            "-q",
            "-rs",
            f"--junitxml={junit}",
            "tests/",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "error" not in out.lower().split("short test summary")[-1], out[-2000:]
    assert "could not import 'PySide6'" not in out  # GUI modules were not even imported
    import xml.etree.ElementTree as ET

    cases = ET.parse(junit).getroot().iter("testcase")
    modules = {c.get("classname", "").split(".")[-1] for c in cases}
    assert {"test_audio_pcm", "test_summary", "test_agreement"} <= modules, modules
    gui = {
        f.stem
        for f in (ROOT / "tests").glob("test_*.py")
        if "pytestmark = pytest.mark.qt" in f.read_text(encoding="utf-8")
    }
    assert gui and not modules & gui, modules & gui
    suite = ET.parse(junit).getroot().find("testsuite")
    assert int(suite.get("tests")) >= 20 and int(suite.get("failures")) == 0 and int(suite.get("errors")) == 0
