"""Temporary files (job renders, uploads, format conversions) under ``VOICECLONE_HOME``.

Each process writes in a folder of its own, ``<home>/tmp/<pid>``, and deletes its files when
done. A process killed mid-job (kill -9, an OOM kill) cannot, so every start removes the
folders of processes that no longer run: nothing is left behind for ever, and nothing fills
the system's temp space, which may be small or in memory.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from voiceclone.settings import Settings

SCRATCH_DIR = "tmp"

log = logging.getLogger(__name__)


def scratch_folder(settings: Settings) -> Path:
    """This process's folder for temporary files (made if needed)."""
    folder = settings.home / SCRATCH_DIR / str(os.getpid())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def remove_dead_scratch(settings: Settings) -> list[Path]:
    """Delete the temporary folders of processes that no longer run; returns them."""
    removed = []
    for folder in sorted((settings.home / SCRATCH_DIR).glob("*")):
        if folder.is_dir() and folder.name.isdigit() and not _running(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed the temporary files of %d stopped process(es)", len(removed))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True
