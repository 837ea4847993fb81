#!/usr/bin/env bash
# Run one benchmark after installing what benchmarks need (once, cached): the benchmark and
# evaluation tools and the evaluation recordings and recognisers.
#   scripts/bench.sh engine [options]     runs bench/engine.py; scripts/bench.sh lists them
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# = 0 ] || [ ! -f "bench/$1.py" ]; then
    echo "usage: scripts/bench.sh NAME [options]; NAME is one of:" >&2
    ls bench/*.py | xargs -n1 basename | sed 's/\.py$//' | grep -v '^_' | sed 's/^/  /' >&2
    exit 2
fi
echo "Installing the benchmark tools and evaluation recordings (once)..." >&2
scripts/setup.sh --eval >&2
name="$1"
shift
exec .venv/bin/python "bench/$name.py" "$@"
