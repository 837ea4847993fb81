"""Settings of the process itself, made at start before its threads exist."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

#: mallopt's parameter for the most arenas glibc's malloc may create (malloc.h).
M_ARENA_MAX = -8


def limit_malloc_arenas(count: int) -> bool:
    """Let glibc's malloc use at most ``count`` arenas (0: its default, eight per core).

    Every thread that allocates may otherwise get an arena of its own; the engine's and the
    encoders' buffers, freed in one thread and needed in another, then leave each arena
    fragmented and the process's memory creeps up under steady load. Returns whether the
    limit was set (not on a C library without ``mallopt``).
    """
    if count <= 0:
        return False
    name = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None) if name else None
    if mallopt is None:
        log.info("this C library has no mallopt: malloc arenas are not limited")
        return False
    return bool(mallopt(M_ARENA_MAX, count))
