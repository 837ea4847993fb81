"""How a person runs a ``voiceclone`` command from their own shell, for hints the service
prints: the plain name when their PATH finds this installation, ``scripts/run.sh`` when it
was started from a checkout, else the full path of the installed script."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def cli_command(arguments: str) -> str:
    """``voiceclone ARGUMENTS`` written so that it works as typed."""
    script = Path(sys.executable).with_name("voiceclone")
    found = shutil.which("voiceclone")
    if found and Path(found).resolve() == script.resolve():
        return f"voiceclone {arguments}"
    checkout = script.parent.parent.parent  # <checkout>/.venv/bin/voiceclone
    launcher = checkout / "scripts" / "run.sh"
    if launcher.is_file():
        shown = "scripts/run.sh" if checkout.resolve() == Path.cwd().resolve() else launcher
        return f"{shown} {arguments}"
    if script.is_file():
        return f"{script} {arguments}"
    return f"{sys.executable} -m voiceclone.cli {arguments}"
