#!/usr/bin/env bash
# Set everything up (idempotent, cached) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --eval --browser
. .venv/bin/activate
ruff check src tests bench
ruff format --check src tests bench
exec python -m pytest "$@"
