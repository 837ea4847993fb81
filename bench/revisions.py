"""Run a benchmark script against ``voiceclone`` as it was at an older git revision.

Kept apart from the benchmarks so that each can put an older service beside today's in
one run (``--baseline REV``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def run_at_revision(revision: str, script: str, arguments: list[str], output_flag: str) -> Any:
    """``script`` run with ``arguments`` in a child process that imports the ``src`` of git
    ``revision`` (exported to a temporary folder); ``output_flag PATH`` is added, and the
    JSON the child wrote there is returned."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "archive", revision, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        out = Path(folder) / "baseline.json"
        environment = {**os.environ, "PYTHONPATH": str(Path(folder) / "src")}
        command = [sys.executable, script, *arguments, output_flag, str(out)]
        subprocess.run(command, check=True, env=environment)
        return json.loads(out.read_text())
