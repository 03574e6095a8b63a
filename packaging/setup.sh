#!/usr/bin/env bash
# Set up ESER Studio on a fresh Debian/Ubuntu machine, idempotently:
#   system libraries (PortAudio, Qt's X11 libraries), a virtual environment in .venv,
#   and the package itself (editable, with the desktop app's "gui" extra). With --dev also the test
#   tools, test packages and the evaluation baseline (openSMILE). Other systems: docs/INSTALL.md.
# Usage: bash packaging/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

# 1. Debian packages (only the missing ones; needs root or sudo).
if command -v dpkg-query >/dev/null 2>&1; then
  if ((dev)); then
    wanted=$(grep -v '^\s*#' packaging/apt-packages.txt | grep -v '^\s*$')
  else
    wanted=$(sed '/^# --dev/q' packaging/apt-packages.txt | grep -v '^\s*#' | grep -v '^\s*$')
  fi
  missing=()
  for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "setup: installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# 2. Virtual environment with the package (editable) and, for --dev, the test extras.
python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
# The app needs the "gui" extra (PySide6, pyqtgraph, sounddevice); a server or cluster worker can
# do with plain `pip install .` (docs/INSTALL.md).
extras="[gui]"; ((dev)) && extras="[gui,test,eval]"
stamp=".venv/.eser-installed$extras"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  echo "setup: installing Python packages into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
  touch "$stamp"
fi
# 3. (--dev) ELAN's own EAF 3.0 schema for the export tests, from the pympi-ling source package
#    on PyPI (never committed; packaging/fetch_eaf_schema.py says why).
if ((dev)); then
  .venv/bin/python packaging/fetch_eaf_schema.py || echo "setup: the EAF schema test will fail until it is fetched"
fi
echo "setup: ready (.venv/bin/esergui)"
