#!/usr/bin/env bash
# Install what serving needs (idempotent, cached) and run the voiceclone command line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --serve >&2
# Not activated: the command's own hints then see the caller's PATH.
exec .venv/bin/voiceclone "$@"
