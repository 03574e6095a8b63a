#!/usr/bin/env bash
# Run the whole test suite as CI does: offscreen Qt, a private sound server for the recording
# tests (tests/sound_server.sh), and pytest from the project's virtual environment.
set -uo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
if [[ -x tests/sound_server.sh ]]; then
  tests/sound_server.sh start || echo "run.sh: no sound server; recording tests will say why they skip"
  trap 'tests/sound_server.sh stop' EXIT
fi
.venv/bin/python -m pytest "$@"
