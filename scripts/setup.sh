#!/usr/bin/env bash
# Create .venv, install voiceclone with its test, benchmark and evaluation tools, and
# fetch the model files (pinned and sha256-verified) into $VOICECLONE_HOME
# (default ~/.local/share/voiceclone). Repeated runs skip what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
# Reinstall only when the dependencies changed.
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    python -m pip install --quiet --upgrade pip
    python -m pip install --quiet -e ".[test,bench,quality]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
voiceclone models install "$@"
