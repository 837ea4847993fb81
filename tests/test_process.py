"""The process's own settings, made before its threads start."""

from __future__ import annotations

import subprocess
import sys

from voiceclone.process import limit_malloc_arenas
from voiceclone.settings import Settings

SET_IN_A_FRESH_PROCESS = (
    "from voiceclone.process import limit_malloc_arenas; "
    "print(limit_malloc_arenas(0), limit_malloc_arenas(2))"
)


def test_malloc_arenas_are_limited_unless_told_not_to() -> None:
    # glibc (this platform's C library) takes the limit; 0 leaves its default alone
    out = subprocess.run(
        [sys.executable, "-c", SET_IN_A_FRESH_PROCESS], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]
    assert not limit_malloc_arenas(0)
    assert Settings().malloc_arenas == 2
