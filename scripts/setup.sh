#!/usr/bin/env bash
# Create .venv, install voiceclone and fetch the model files (pinned and sha256-verified)
# into $VOICECLONE_HOME (default ~/.local/share/voiceclone). Repeated runs skip what is done.
#   --serve     only what serving needs (no test, benchmark or training tools)
#   --docs      the documentation tools too (scripts/docs.sh)
#   --no-models do not fetch model files
#   --browser   also install Debian's Chromium and a Korean font (the browser tests)
#   other options go to `voiceclone models install` (e.g. --eval)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
install_args=()
browser=0
models=1
extras="test,bench,quality"
for arg in "$@"; do
    case "$arg" in
        --browser) browser=1 ;;
        --serve) extras="" ;;
        --docs) extras="docs" ;;
        --no-models) models=0 ;;
        *) install_args+=("$arg") ;;
    esac
done
if [ "$browser" = 1 ]; then
    scripts/install-browser.sh
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
# Install only when the dependencies changed or these extras are new to this environment.
deps="$(sha256sum pyproject.toml | cut -c1-16)"
stamp=".venv/.installed-$deps-${extras:-base}"
installed=0
[ -e "$stamp" ] && installed=1
# Serving needs the base dependencies only, which every earlier install brought.
if [ -z "$extras" ] && compgen -G ".venv/.installed-$deps-*" > /dev/null; then installed=1; fi
if [ "$installed" = 0 ]; then
    python -m pip install --quiet --upgrade pip
    python -m pip install --quiet -e ".${extras:+[$extras]}"
    find .venv -maxdepth 1 -name '.installed-*' ! -name ".installed-$deps-*" -delete
    touch "$stamp"
fi
if [ "$models" = 1 ]; then
    voiceclone models install "${install_args[@]}"
fi
