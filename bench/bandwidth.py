"""How often the service takes a recording for a phone call, and how often it is right.

The band a recording holds decides how a voice is cloned (``auto``: style-encoder-v2 and no
timbre matching for a phone-band reference) and what the quality advice says. Every real
speaker's clip (both sets, dev and held-out: the estimator is not tuned on speakers) is
prepared as an upload would be, then read in these forms:

- ``full``, ``half``, ``cut3``: the clip, its first half, its first 3 s (direct recordings);
- ``room``: the clip in a room (echo dying in 0.4 s) with noise 20 dB down (direct);
- ``line``: the clip through an 8 kHz band only (a phone line, no codec);
- ``phone``: 8 kHz band, mp3 at 32 kbit/s and noise 25 dB down (the quality benchmark's
  phone call), and ``phone3``: its first 3 s.

For each form it prints how many clips read as narrow-band and the median and range of
``bandwidth_hz``; ``--baseline REV`` puts the estimator of git revision ``REV`` beside it.

    python bench/bandwidth.py --baseline 01e9410
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soxr
from quality import SAMPLE_RATE, halves, load_clip
from rich.console import Console
from rich.table import Table
from splits import speakers_in

from voiceclone.assets.paths import require_eval_assets
from voiceclone.audio import reference
from voiceclone.audio.degrade import add_noise, add_room, phone_call

CUT_SECONDS = 3.0
FORMS = ("full", "half", "cut3", "room", "line", "phone", "phone3")
NARROW_FORMS = {"line", "phone", "phone3"}

Estimator = Callable[[np.ndarray, int], float]


def form_of(audio: np.ndarray, form: str) -> np.ndarray:
    """The clip as it would arrive in ``form``."""
    rng = np.random.default_rng(0)
    cut = round(CUT_SECONDS * SAMPLE_RATE)
    if form == "half":
        return halves(audio, SAMPLE_RATE)[0]
    if form == "cut3":
        return audio[:cut]
    if form == "room":
        return add_noise(add_room(audio, SAMPLE_RATE, 0.4, rng), 20.0, rng)
    if form == "line":
        narrow = soxr.resample(audio, SAMPLE_RATE, 8_000)
        return np.asarray(soxr.resample(narrow, 8_000, SAMPLE_RATE), dtype=np.float32)
    if form in ("phone", "phone3"):
        called = phone_call(audio, SAMPLE_RATE)
        return called[:cut] if form == "phone3" else called
    return audio


def estimator_at(revision: str) -> Estimator:
    """``bandwidth_hz`` as it was at git ``revision``."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/voiceclone/audio/reference.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reference_at_revision.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("reference_at_revision", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module.bandwidth_hz  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="Also run the estimator of this git revision.")
    args = parser.parse_args(argv)
    estimators: dict[str, Estimator] = {}
    if args.baseline:
        estimators[f"at {args.baseline}"] = estimator_at(args.baseline)
    estimators["now"] = reference.bandwidth_hz

    paths = require_eval_assets()
    names = [name for name, _ in speakers_in(paths.refvoice_names())]
    readings: dict[tuple[str, str], list[float]] = {}
    for name in names:
        clip = load_clip(paths, name)
        for form in FORMS:
            audio = form_of(clip, form)
            for label, estimate in estimators.items():
                readings.setdefault((form, label), []).append(estimate(audio, SAMPLE_RATE))

    table = Table(
        title=f"Band of {len(names)} real speakers' clips (narrow: under "
        f"{reference.FULL_BAND_HZ:g} Hz)"
    )
    for column in ("form", "is", "estimator", "read narrow", "wrong", "median Hz", "min-max Hz"):
        table.add_column(
            column, justify="left" if column in ("form", "is", "estimator") else "right"
        )
    for form in FORMS:
        for label in estimators:
            values = readings[(form, label)]
            narrow = sum(v < reference.FULL_BAND_HZ for v in values)
            wrong = len(values) - narrow if form in NARROW_FORMS else narrow
            table.add_row(
                form,
                "narrow" if form in NARROW_FORMS else "full",
                label,
                f"{narrow}/{len(values)}",
                str(wrong),
                f"{statistics.median(values):.0f}",
                f"{min(values):.0f}-{max(values):.0f}",
            )
        table.add_section()
    console = Console(width=160)
    console.print(table)
    console.print(
        "Command: python bench/bandwidth.py " + " ".join(sys.argv[1:] if argv is None else argv)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
