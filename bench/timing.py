"""Timing shared by the benchmarks (each runs as ``python bench/NAME.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def median_seconds(action: Callable[[], object], runs: int) -> float:
    """The median wall time of ``runs`` calls, after one untimed call (the first call at a
    new input length plans its buffers)."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
