#!/usr/bin/env bash
# Set everything up (idempotent, cached) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " == *" -m xtts "* ]]; then
    # The XTTS-v2 tests run in their own environment (torch 2.9 with torchaudio), which has
    # only what they need: collect their module alone.
    scripts/setup-xtts.sh
    . .venv-xtts/bin/activate
    exec python -m pytest "$@" tests/engines/test_xtts.py
fi
scripts/setup.sh --eval --browser
. .venv/bin/activate
ruff check src tests bench
ruff format --check src tests bench
mypy
exec python -m pytest "$@"
