#!/usr/bin/env bash
# Set everything up (idempotent, cached) and run the voiceclone command line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
. .venv/bin/activate
exec voiceclone "$@"
