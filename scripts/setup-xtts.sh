#!/usr/bin/env bash
# The XTTS-v2 engine's environment, apart from the default one (it needs torch 2.9 and
# torchaudio; the default install has no torch at all): .venv-xtts with voiceclone[xtts]
# and the test tools, plus FFmpeg's shared libraries (torchcodec loads them) via apt-get.
# Repeated runs skip what is already done. Weights are never fetched: see README "XTTS-v2".
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! ldconfig -p | grep -q libavcodec; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing FFmpeg's libraries with apt-get..." >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends ffmpeg \
        >/dev/null
fi
[ -x .venv-xtts/bin/python ] || "$PYTHON" -m venv .venv-xtts
. .venv-xtts/bin/activate
stamp=".venv-xtts/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    python -m pip install --quiet --upgrade pip
    python -m pip install --quiet -e ".[xtts]" pytest httpx
    rm -f .venv-xtts/.installed-*
    touch "$stamp"
fi
# The tests speak real reference recordings; they come with the evaluation assets.
voiceclone models install --eval
