"""Desktop integration: the entry, the AppStream metainfo and the icons pass the freedesktop tools.

``desktop-file-validate`` (desktop-file-utils) and ``appstreamcli validate`` (appstream) are
Debian packages of the ``--dev`` list in ``packaging/apt-packages.txt``. The install script is
run for real into a temporary prefix, validated there, and uninstalled again.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "eser-studio.desktop"
METAINFO = PACKAGING / "org.eserstudio.ESERStudio.metainfo.xml"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (bash packaging/setup.sh --dev installs it)")
    return path


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_desktop_entry_passes_desktop_file_validate() -> None:
    proc = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stdout and "warning" not in proc.stdout, proc.stdout


def test_metainfo_passes_appstreamcli_validate_and_names_the_desktop_entry() -> None:
    proc = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)], check=False, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = METAINFO.read_text()
    assert f'<launchable type="desktop-id">{DESKTOP.name}</launchable>' in text
    assert "<project_license>MIT</project_license>" in text


def test_icons_exist_at_the_standard_sizes_and_for_windows_and_macos() -> None:
    for size in ICON_SIZES:
        png = PACKAGING / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "eser-studio.png"
        assert _png_size(png) == (size, size)
    assert (PACKAGING / "icons" / "eser-studio.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert (PACKAGING / "icons" / "eser-studio.icns").read_bytes()[:4] == b"icns"


def test_install_script_writes_a_valid_entry_with_icons_and_removes_them(tmp_path: Path) -> None:
    validate = _tool("desktop-file-validate")
    program = tmp_path / "bin dir" / "esergui"  # a space in the path: Exec must quote it
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    prefix = tmp_path / "prefix"
    script = PACKAGING / "install_desktop_entry.sh"
    proc = subprocess.run(
        ["bash", str(script), "--prefix", str(prefix), "--exec", str(program)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    share = prefix / "share"
    entry = share / "applications" / "eser-studio.desktop"
    assert f'Exec="{program}" %F' in entry.read_text()
    assert subprocess.run([validate, str(entry)], check=False).returncode == 0
    assert (share / "metainfo" / METAINFO.name).is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "eser-studio.svg").is_file()
    for size in ICON_SIZES:
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "eser-studio.png").is_file()

    gone = subprocess.run(
        ["bash", str(script), "--prefix", str(prefix), "--uninstall"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gone.returncode == 0, gone.stderr
    left = [p for p in share.rglob("*") if p.is_file() and "cache" not in p.name]
    assert left == []
