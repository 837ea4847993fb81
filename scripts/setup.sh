#!/usr/bin/env bash
# Create .venv, install voiceclone with its test, benchmark and evaluation tools, and fetch the model files
# (pinned and sha256-verified) into $VOICECLONE_HOME (default ~/.local/share/voiceclone).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test,bench,quality]"
voiceclone models install "$@"
