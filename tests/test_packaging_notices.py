"""Licence files and version pins: the notices generator reads real package metadata, and the
lock file agrees with pyproject's constraints for the packages whose bounds are explained there."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
import third_party_notices  # noqa: E402 (found through the sys.path entry above)

LOCK = ROOT / "requirements" / "lock-linux-py311.txt"


def _rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] not in ("package", "what"):
            rows[canonicalize_name(cells[0])] = cells
    return rows


def test_generated_notices_name_each_direct_dependency_with_its_licence(tmp_path: Path) -> None:
    out = tmp_path / "NOTICES.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "third_party_notices.py"), "--out", str(out)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith(third_party_notices.PREAMBLE)
    rows = _rows(text)
    for name in (
        "torch",
        "torchaudio",
        "numpy",
        "scipy",
        "pandas",
        "soundfile",
        "av",
        "pyside6-essentials",
        "pyqtgraph",
        "sounddevice",
    ):
        assert name in rows, f"{name} missing from the notices"
        assert rows[name][2] and rows[name][2] != "not stated in the metadata", rows[name]
    assert "LGPL" in rows["pyside6-essentials"][2]
    assert "eser-studio" not in rows


def test_committed_notices_and_licences_are_in_place() -> None:
    notices = (ROOT / "THIRD_PARTY_NOTICES.md").read_text()
    assert notices.startswith(third_party_notices.PREAMBLE)
    assert "torch" in _rows(notices)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    weights_licence = (ROOT / "model" / "weights" / "LICENSE.md").read_text()
    assert "EmoDB" in weights_licence and "research" in weights_licence and "Burkhardt" in weights_licence


def test_lock_file_satisfies_the_explained_torch_and_qt_constraints() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for r in project["optional-dependencies"]["gui"]]
    pins = {}
    for line in LOCK.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    for req in declared:
        key = canonicalize_name(req.name)
        if key in ("torch", "torchaudio", "pyside6-essentials"):
            assert key in pins, f"{key} is not pinned in {LOCK.name}"
            assert req.specifier.contains(pins[key], prereleases=True), f"{key}=={pins[key]} breaks {req}"
