"""Which real speakers tune a method (dev) and which report on it (held-out).

Kept apart from the benchmarks so that one run against an older ``voiceclone`` (``--baseline``)
can still import it.
"""

from __future__ import annotations

SPLIT_RULE = "sorted by name within each set; every third speaker (index % 3 == 2) is held out"


def split_of(names: list[str]) -> dict[str, str]:
    """``{name: "dev" | "held-out"}`` by :data:`SPLIT_RULE`."""
    return {name: ("held-out" if i % 3 == 2 else "dev") for i, name in enumerate(sorted(names))}
