#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the XTTS-v2 tests on CUDA, then the speed probe (first
# chunk, real-time factor, peak GPU memory) on the tiny release, and on the real weights
# when VOICECLONE_XTTS_DIR is set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-xtts.sh
. .venv-xtts/bin/activate
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device visible to torch')"
VOICECLONE_TEST_DEVICE=cuda python -m pytest -q -m xtts tests/engines/test_xtts.py
VOICECLONE_XTTS_DIR= python bench/xtts.py --device cuda
if [ -n "${VOICECLONE_XTTS_DIR:-}" ]; then
    python bench/xtts.py --device cuda
fi
