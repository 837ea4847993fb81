"""How good a voice's recordings are, and what would make the clone closer, in words.

Measured on the recordings as prepared for cloning (trimmed, loudness-normalised):

- ``speech_seconds``: speech the voice-activity detector found, over all recordings;
- ``snr_db``: speech against background, the loud frames' level over the quiet ones';
- ``similarity``: the clone's own speech against the recordings, by the speaker embedder the
  engine clones with (None for an engine that does not measure it);
- ``bandwidth_hz``: up to where the recording holds sound (a phone call stops near 4 kHz);
- ``advice``: one or two sentences a person can act on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from voiceclone.audio.reference import (
    FULL_BAND_HZ,
    LEVEL_FRAME_SECONDS,
    bandwidth_hz,
    frame_levels_db,
    speech_seconds,
)
from voiceclone.audio.vad import SileroVad
from voiceclone.engines.base import VoiceProfile, VoiceSample

GOOD_SPEECH_SECONDS = 10.0
"""Recordings with this much speech or more clone noticeably closer than 3-5 s ones."""
QUIET_ROOM_SNR_DB = 20.0
"""Below this, background noise is heard in the clone (calibration: docs/performance.md)."""
CLOSE_SIMILARITY = 0.80
"""The speaker embedder's cosine above which a clone sounds like its speaker."""
LOUD_PERCENTILE, QUIET_PERCENTILE = 90, 10
QUALITY_KEY = "quality"
"""Where a profile's details keep the quality of the recordings it was made from."""


@dataclass(frozen=True)
class VoiceQuality:
    speech_seconds: float
    snr_db: float
    similarity: float | None
    bandwidth_hz: float
    advice: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def assess_quality(
    samples: Sequence[VoiceSample], profile: VoiceProfile, vad: SileroVad | None = None
) -> VoiceQuality:
    """The quality of ``samples`` and of the ``profile`` cloned from them."""
    speech = sum(speech_seconds(s.samples, s.sample_rate, vad) for s in samples)
    snr = min(estimate_snr_db(s.samples, s.sample_rate) for s in samples)
    band = min(bandwidth_hz(s.samples, s.sample_rate) for s in samples)
    similarity = profile.details.get("similarity")
    similarity = round(float(similarity), 3) if similarity is not None else None
    return VoiceQuality(
        speech_seconds=round(speech, 1),
        snr_db=round(snr, 1),
        similarity=similarity,
        bandwidth_hz=round(band, -1),
        advice=advise(speech, snr, similarity, band),
    )


def estimate_snr_db(samples: np.ndarray, sample_rate: int) -> float:
    """The loud frames' level over the quiet frames' (25 ms frames), at most 60 dB."""
    levels = frame_levels_db(samples, max(1, round(LEVEL_FRAME_SECONDS * sample_rate)))
    loud, quiet = np.percentile(levels, [LOUD_PERCENTILE, QUIET_PERCENTILE])
    return float(np.clip(loud - quiet, 0.0, 60.0))


def advise(speech: float, snr: float, similarity: float | None, band: float) -> str:
    """What would make the clone closer, most useful first; praise when nothing would."""
    advice = []
    if band < FULL_BAND_HZ:
        advice.append(
            "This recording sounds like a phone call or a compressed voice message: record "
            "straight into the app or a voice-memo app instead."
        )
    more = math.ceil(GOOD_SPEECH_SECONDS - speech)
    quiet = snr < QUIET_ROOM_SNR_DB
    if more > 0:
        where = " in a quiet room" if quiet else ""
        advice.append(f"Record {more} s more{where} for a closer voice.")
    elif quiet:
        advice.append("Record again in a quieter room: background noise comes through.")
    if similarity is not None and similarity < CLOSE_SIMILARITY and not advice:
        advice.append("Add another recording of the same speaker for a closer voice.")
    return " ".join(advice) or "Good recording: nothing to improve."
