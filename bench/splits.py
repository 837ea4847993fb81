"""Which real speakers tune a method (dev) and which report on it (held-out).

Kept apart from the benchmarks so that one run against an older ``voiceclone`` (``--baseline``)
can still import it.
"""

from __future__ import annotations

SPLIT_RULE = "sorted by name within each set; every third speaker (index % 3 == 2) is held out"


def split_of(names: list[str]) -> dict[str, str]:
    """``{name: "dev" | "held-out"}`` by :data:`SPLIT_RULE`."""
    return {name: ("held-out" if i % 3 == 2 else "dev") for i, name in enumerate(sorted(names))}


def speakers_in(
    names: list[str], voice_set: str = "all", split: str = "all"
) -> list[tuple[str, str]]:
    """``(name, split)`` of the real speakers of ``voice_set`` (en, de or all) in ``split``
    (dev, held-out or all), sorted by name."""
    chosen = []
    for prefix in ("en", "de") if voice_set == "all" else (voice_set,):
        of_set = [name for name in names if name.startswith(f"{prefix}_")]
        for name, part in split_of(of_set).items():
            if split in ("all", part):
                chosen.append((name, part))
    return sorted(chosen)


def main() -> None:
    """Print the dev speakers' clips, one path a line (for calibrate-style-encoder)."""
    from voiceclone.assets.paths import require_eval_assets

    paths = require_eval_assets()
    for name, _ in speakers_in(paths.refvoice_names(), split="dev"):
        print(paths.refvoice_file(name))


if __name__ == "__main__":
    main()
