"""XTTS-v2 speed probe: load time, voice creation, time to first chunk, real-time factor and
peak GPU memory, on the real release (``VOICECLONE_XTTS_DIR``) or, without it, on the tiny
random-weight release the tests build (shapes and plumbing only: its timings say nothing
about the real model's).

    .venv-xtts/bin/python bench/xtts.py [--device cpu|cuda] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from rich.console import Console
from rich.table import Table

TESTS = Path(__file__).resolve().parents[1] / "tests"
TEXTS = {
    "en": "Welcome to the evening news. Heavy rain is expected across the north tonight.",
    "ko": "안녕하세요, 저녁 뉴스입니다. 오늘 밤 북부 지역에는 많은 비가 예상됩니다.",
}


def _release(scratch: Path) -> tuple[Path, str]:
    import os

    given = os.environ.get("VOICECLONE_XTTS_DIR")  # empty: the tiny release
    if given:
        return Path(given), "release"
    sys.path.insert(0, str(TESTS))
    from xtts_support import make_tiny_release

    return make_tiny_release(scratch / "tiny"), "tiny random-weight release"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    import numpy as np
    import torch

    sys.path.insert(0, str(TESTS))
    from fakes import real_speech

    from voiceclone.engines.base import VoiceSample
    from voiceclone.engines.xtts.engine import XttsEngine
    from voiceclone.settings import Settings

    scratch = Path(tempfile.mkdtemp())
    release, kind = _release(scratch)
    settings = Settings(
        home=scratch / "home", engine="xtts", engines=["xtts"], xtts_dir=release, device=args.device
    )
    started = time.perf_counter()
    engine = XttsEngine(settings)
    load_s = time.perf_counter() - started
    sample = VoiceSample(real_speech(6.0, engine.sample_rate), engine.sample_rate)
    started = time.perf_counter()
    voice = engine.create_voice([sample])
    create_s = time.perf_counter() - started
    if engine.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    table = Table(title=f"XTTS-v2 on {engine.device.type} ({kind})")
    for column in ("language", "first chunk p50 ms", "first chunk max ms", "RTF p50", "chunks"):
        table.add_column(column, justify="right")
    for language, text in TEXTS.items():
        firsts, factors, counts = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            stream = engine.synthesize(text, voice, language)
            first = next(stream)
            firsts.append(time.perf_counter() - started)
            rest = list(stream)
            seconds = first.duration + sum(chunk.duration for chunk in rest)
            factors.append((time.perf_counter() - started) / seconds)
            counts.append(1 + len(rest))
        table.add_row(
            language,
            f"{statistics.median(firsts) * 1000:.0f}",
            f"{max(firsts) * 1000:.0f}",
            f"{statistics.median(factors):.2f}",
            f"{int(np.median(counts))}",
        )
    console = Console()
    console.print(table)
    console.print(
        f"load (sha256 check + weights) {load_s:.2f} s; create_voice (6 s) {create_s:.2f} s"
    )
    if engine.device.type == "cuda":
        console.print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
