"""Fetch ELAN's own EAF 3.0 schema for the export tests (run by ``packaging/setup.sh --dev``).

ELAN's ``EAFv3.0.xsd`` (Max Planck Institute for Psycholinguistics, The Language Archive; ELAN is
GPL-3.0) is shipped by the pympi-ling *source* package on PyPI as ``test/EAFv3.0.xsd``. This script
downloads that source package of the installed pympi-ling version through pip (the package
registry, as any install does) and writes the schema to ``<venv>/share/eser-studio/EAFv3.0.xsd``,
outside the repository: it is never committed and never packaged. The app does not use it.

    .venv/bin/python packaging/fetch_eaf_schema.py        # prints where it is; exit 1 on failure
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

TARGET = Path(sys.prefix) / "share" / "eser-studio" / "EAFv3.0.xsd"
MEMBER = "/test/EAFv3.0.xsd"


def fetch(target: Path = TARGET) -> Path:
    """Download the pympi-ling source package and extract the schema to ``target``."""
    wanted = f"pympi-ling=={version('pympi-ling')}"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps"]
            + ["--no-binary", ":all:", wanted, "-d", tmp],
            check=True,
        )
        (sdist,) = Path(tmp).glob("*.tar.gz")
        with tarfile.open(sdist) as tar:
            member = next((m for m in tar.getmembers() if m.name.endswith(MEMBER)), None)
            if member is None:
                raise FileNotFoundError(f"{sdist.name} holds no {MEMBER.lstrip('/')}")
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
    if b"ANNOTATION_DOCUMENT" not in data:
        raise ValueError(f"{MEMBER.lstrip('/')} in {wanted} is not the EAF schema")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.write_bytes(data)
    part.replace(target)
    return target


def main() -> int:
    if TARGET.is_file():
        print(f"setup: ELAN's EAF 3.0 schema: {TARGET}")
        return 0
    try:
        path = fetch()
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        print(
            f"setup: could not fetch ELAN's EAF 3.0 schema from the pympi-ling source package ({exc})", file=sys.stderr
        )
        return 1
    print(f"setup: ELAN's EAF 3.0 schema from the pympi-ling source package -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
