"""Calibrate spoken consent's speaker check: does the consent recording come from the person
in the voice samples?

For every real reference recording (the ``en`` and ``de`` sets: 68 speakers, one clip each)
the clip is cut in two at its quietest point near the middle; half A plays the voice sample
and half B the consent recording. Same-speaker scores are cos(A_i, B_i), different-speaker
scores cos(A_i, B_j) for every i != j, with the service's own d-vector embedder (the one
spoken consent uses). Printed: the score distributions, the equal-error rate and its
threshold, and the false-accept / false-reject rates at the configured threshold.

    python bench/consent.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from quality import halves

from voiceclone.assets.paths import require_eval_assets
from voiceclone.cloning.embedder import SAMPLE_RATE, SpeakerEmbedder
from voiceclone.settings import get_settings


def scores() -> tuple[np.ndarray, np.ndarray]:
    paths = require_eval_assets()
    embedder = SpeakerEmbedder(paths.embedder)
    first, second = [], []
    for path in sorted(paths.refvoices_dir.glob("*.wav")):
        audio, rate = sf.read(path, dtype="float32")
        a, b = halves(soxr.resample(audio, rate, SAMPLE_RATE), SAMPLE_RATE)
        first.append(embedder.embed(a))
        second.append(embedder.embed(b))
    matrix = np.stack(first) @ np.stack(second).T
    same = np.diag(matrix)
    different = matrix[~np.eye(len(matrix), dtype=bool)]
    return same, different


def equal_error(same: np.ndarray, different: np.ndarray) -> tuple[float, float]:
    """(equal-error rate, its threshold), scanning every observed score."""
    best = (1.0, 0.0)
    for threshold in np.unique(np.concatenate([same, different])):
        false_reject = float(np.mean(same < threshold))
        false_accept = float(np.mean(different >= threshold))
        gap = abs(false_reject - false_accept)
        if gap < best[0]:
            best = (gap, threshold)
            eer = (false_reject + false_accept) / 2
    return eer, float(best[1])


def main() -> None:
    same, different = scores()
    eer, eer_threshold = equal_error(same, different)
    chosen = get_settings().consent_speaker_threshold
    table = Table(title="Spoken consent: d-vector cosine, half clip vs half clip")
    for column in ("pairs", "count", "min", "5th pct", "median", "95th pct", "max"):
        table.add_column(column)
    for label, values in (("same speaker", same), ("different speakers", different)):
        table.add_row(
            label,
            str(len(values)),
            *(f"{value:.3f}" for value in np.percentile(values, [0, 5, 50, 95, 100])),
        )
    console = Console()
    console.print(table)
    console.print(f"equal-error rate {eer:.2%} at threshold {eer_threshold:.3f}")
    console.print(
        f"configured threshold {chosen:.3f}: false rejects {np.mean(same < chosen):.2%}, "
        f"false accepts {np.mean(different >= chosen):.2%}"
    )


if __name__ == "__main__":
    main()
