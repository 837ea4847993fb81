"""Scores the benchmarks share, from models the service never uses.

Depends on nothing of ``voiceclone``, so that one run against an older version
(``--baseline``) can still import it.
"""

from __future__ import annotations

import numpy as np
import soxr

DNSMOS_RATE = 16_000


def dnsmos(audio: np.ndarray, rate: int) -> float:
    """DNSMOS overall (Microsoft's non-intrusive P.835 predictor, from ``speechmos``)."""
    from speechmos import dnsmos as model

    audio16 = np.clip(soxr.resample(audio, rate, DNSMOS_RATE), -1, 1).astype(np.float32)
    return float(model.run(audio16, DNSMOS_RATE)["ovrl_mos"])
