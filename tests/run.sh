#!/usr/bin/env bash
# Run the whole test suite as CI does:
#   1. the linters and the type checker (ruff check, ruff format --check, mypy; settings in pyproject.toml);
#   2. every non-GUI test with Qt blocked (ESER_BLOCK_QT=1: importing PySide6/pyqtgraph fails), so the
#      Qt-free core is proven to run where no Qt is installed (servers, cluster workers);
#   3. the GUI tests (marker `qt`) with offscreen Qt and a private sound server (tests/sound_server.sh).
# With arguments, only pytest runs, with those arguments (e.g. `bash tests/run.sh tests/test_csv.py -x`).
set -uo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
if [[ -x tests/sound_server.sh ]]; then
  tests/sound_server.sh start || echo "run.sh: no sound server; recording tests will say why they skip"
  trap 'tests/sound_server.sh stop' EXIT
fi
py=.venv/bin/python
if (($#)); then
  "$py" -m pytest "$@"
  exit $?
fi
rc=0
echo "run.sh: ruff check"; .venv/bin/ruff check . || rc=1
echo "run.sh: ruff format --check"; .venv/bin/ruff format --check . || rc=1
echo "run.sh: mypy"; .venv/bin/mypy || rc=1
echo "run.sh: non-GUI tests without Qt"
ESER_BLOCK_QT=1 "$py" -m pytest -p no:pytest-qt -m "not qt" || rc=1
echo "run.sh: GUI tests"
"$py" -m pytest -m qt || rc=1
exit $rc
