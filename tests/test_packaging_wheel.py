"""The wheel: what it carries, and that an installed copy runs from its own files.

The wheel is built (``python -m build --wheel``) from a copy of the source files, then
installed with ``--no-deps`` into a fresh virtual environment whose only link to this
environment is a ``.pth`` line naming its site-packages (for torch, numpy, ...: no nested
``.pth`` files, so the checkout's editable install is not seen). Everything runs from a temporary
folder, so ``esergui`` and ``model`` can only come from the installed wheel. The analysis runs
with PySide6, pyqtgraph and sounddevice blocked: the core install works without the GUI extras.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from esergui import __version__

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "LICENSE",
    "THIRD_PARTY_NOTICES.md",
    "esergui",
    "model",
    "resources",
)
GUI_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "sounddevice")
BLOCK_GUI = textwrap.dedent(
    f"""
    import sys

    class _NoGuiExtras:
        def find_spec(self, name, path=None, target=None):
            top = name.split(".")[0]
            if top in {GUI_MODULES!r}:
                raise ModuleNotFoundError(f"No module named {{top!r}} (blocked)", name=top)
            return None

    sys.meta_path.insert(0, _NoGuiExtras())
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (built,) = out.glob("eser_studio-*.whl")
    return built


def test_wheel_carries_model_speaker_encoder_demo_and_licences(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = f"eser_studio-{__version__}.dist-info"
    for required in (
        "model/weights/esernet-emodb.safetensors",
        "model/weights/LICENSE.md",
        "model/MODEL_CARD.md",
        "esergui/speakers/voice_encoder.safetensors",
        "esergui/speakers/VOICE_ENCODER_LICENSE.txt",
        "esergui/resources/demo/demo_lesson.ogg",
        "esergui/resources/icons/eser-studio.svg",
        "esergui/py.typed",
        f"{dist_info}/licenses/LICENSE",
        f"{dist_info}/licenses/THIRD_PARTY_NOTICES.md",
        f"{dist_info}/licenses/model/weights/LICENSE.md",
    ):
        assert required in names, f"{required} is not in {wheel.name}"
    assert not [n for n in names if n.startswith("esergui/resources/") and n.endswith(".py")], "scripts leaked in"
    assert not [n for n in names if n.startswith(("tests/", "bench/", "resources/"))]

    meta = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("torch") for r in core)
    for gui_only in ("pyside6", "pyqtgraph", "sounddevice"):
        assert not [r for r in core if r.lower().startswith(gui_only)], f"{gui_only} must be an extra, not core"
    assert "Provides-Extra: gui" in meta and "Provides-Extra: record" in meta
    assert "License-Expression: MIT" in meta


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("installed")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The heavy dependencies come from this environment: one plain path line, no nested .pth files.
    (Path(purelib) / "_eser_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            str(wheel),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    blocker = folder / "no_gui"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCK_GUI)
    cwd = folder / "cwd"
    cwd.mkdir()
    return {"python": python, "esergui": bin_dir / "esergui", "purelib": Path(purelib), "cwd": cwd, "no_gui": blocker}


def _run(
    installed: dict[str, Path], *args: str, no_gui: bool = False, timeout: int = 300
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["HOME"] = str(installed["cwd"])  # no user workspace or settings from this machine
    if no_gui:
        env["PYTHONPATH"] = str(installed["no_gui"])
    return subprocess.run(
        list(args), check=False, cwd=installed["cwd"], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_installed_wheel_runs_from_its_own_files(installed: dict[str, Path]) -> None:
    version = _run(installed, str(installed["esergui"]), "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"esergui {__version__}"

    where = _run(
        installed,
        str(installed["python"]),
        "-c",
        "import esergui, model, esergui.paths as p, model.inference as i; "
        "print(esergui.__file__); print(model.__file__); print(p.DEMO_LESSON); print(p.RESOURCES_DIR)",
    )
    assert where.returncode == 0, where.stderr
    paths = [Path(line) for line in where.stdout.split()]
    for path in paths:
        assert path.is_relative_to(installed["purelib"]), f"{path} is not from the installed wheel"
        assert not path.is_relative_to(ROOT)
    assert paths[2].is_file() and paths[2].name == "demo_lesson.ogg"

    no_app = _run(installed, str(installed["esergui"]), no_gui=True)
    assert no_app.returncode == 2
    assert "eser-studio[gui]" in no_app.stderr and "Traceback" not in no_app.stderr


@pytest.mark.slow
def test_installed_wheel_analyses_the_installed_demo_lesson_without_gui_extras(installed: dict[str, Path]) -> None:
    demo = installed["purelib"] / "esergui" / "resources" / "demo" / "demo_lesson.ogg"
    out = installed["cwd"] / "out"
    proc = _run(
        installed,
        str(installed["esergui"]),
        "analyze",
        str(demo),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--quiet",
        no_gui=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    utterances = pd.read_csv(out / "demo_lesson_utterances.csv")
    assert len(utterances) > 20
    assert set(utterances["role"]) >= {"teacher"}
    assert utterances["emotion"].notna().all()
    assert (out / "demo_lesson_summary.csv").is_file()
