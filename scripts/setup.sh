#!/usr/bin/env bash
# Create .venv, install voiceclone with its test, benchmark and evaluation tools, and
# fetch the model files (pinned and sha256-verified) into $VOICECLONE_HOME
# (default ~/.local/share/voiceclone). Repeated runs skip what is already done.
#   --browser   also install Debian's Chromium and a Korean font (the browser tests)
#   other options go to `voiceclone models install` (e.g. --eval)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
install_args=()
browser=0
for arg in "$@"; do
    if [ "$arg" = "--browser" ]; then browser=1; else install_args+=("$arg"); fi
done
if [ "$browser" = 1 ]; then
    scripts/install-browser.sh
fi
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
voiceclone models install "${install_args[@]}"
