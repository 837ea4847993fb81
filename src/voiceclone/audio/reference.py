"""Check and clean a decoded reference recording before a voice is cloned from it.

A reference must hold only finite samples, be short enough, not silent, not badly clipped
and hold enough speech. Speech is found by a trained voice-activity model
(:mod:`voiceclone.audio.vad`), so noise, hum or music are refused even when loud. The
accepted recording is trimmed to its speech (plus a small margin) and brought to a common
loudness.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from voiceclone.audio.equalize import long_term_spectrum, spectrum_frequencies
from voiceclone.audio.vad import WINDOW_SECONDS, SileroVad, default_vad
from voiceclone.errors import InvalidAudio
from voiceclone.settings import get_settings

#: A recording whose loudest 25 ms stays below this is silent, whatever the detector says.
SILENCE_FLOOR_DBFS = -50.0
LEVEL_FRAME_SECONDS = 0.025
NON_FINITE_MESSAGE = (
    "The recording holds invalid samples (NaN or infinite values), so it is not usable "
    "audio. Export it again from your recording app."
)
NO_SPEECH_MESSAGE = (
    "No speech found: the recording holds sound (noise, music or hum) but no one speaking. "
    "Record yourself reading a few sentences aloud."
)

TRIM_MARGIN_SECONDS = 0.1
PEAK_CEILING_DBFS = -1.0
CLIPPED_SAMPLE_LEVEL = 0.999
POOL_GAP_SECONDS = 0.3
FULL_BAND_HZ = 6000.0
"""Recordings whose sound stops below this went through a phone line (an 8 kHz call stops
near 3.4-4 kHz) or a low-rate codec; direct recordings reach 8 kHz and more."""
BAND_EDGE_DROP_DB = 50.0
"""``bandwidth_hz`` is the highest frequency whose long-term level lies within this of the
speech band's: a phone line or codec leaves its highs 100 dB down, while a direct
recording's, even a dull one's, stay within about 25 dB."""
SPEECH_BAND_HZ = (300.0, 3400.0)
"""The band every recording of speech holds, phone calls included: the level reference."""

_POWER_EPSILON = 1e-12  # keeps log10 finite for digital silence (-120 dB)


def check_finite(samples: np.ndarray) -> None:
    """:class:`InvalidAudio` if any sample is NaN or infinite."""
    if not np.isfinite(samples).all():
        raise InvalidAudio(NON_FINITE_MESSAGE)


def prepare_reference(
    samples: np.ndarray, sample_rate: int, vad: SileroVad | None = None
) -> np.ndarray:
    """Validate a mono reference recording and return it trimmed and loudness-normalised.

    Raises :class:`InvalidAudio` when the recording holds non-finite samples, is too long,
    silent, heavily clipped, holds no speech or less than ``min_speech_seconds`` of it.
    ``vad`` defaults to the installed Silero detector.
    """
    settings = get_settings()
    audio = _as_mono_float32(samples)
    check_finite(audio)

    duration = len(audio) / sample_rate
    if duration > settings.max_reference_seconds:
        raise InvalidAudio(
            f"The recording is {describe_duration(duration)} long — longer than "
            f"{describe_duration(settings.max_reference_seconds)}, the most a voice reference "
            "may be. Trim it and try again."
        )

    levels = frame_levels_db(audio, _frame_length(sample_rate))
    if levels.size == 0 or levels.max() < SILENCE_FLOOR_DBFS:
        raise InvalidAudio(
            "The recording contains no speech — it is silent (or nearly so). "
            "Check the microphone and record again."
        )

    clipped = clipped_fraction(audio)
    if clipped > settings.clipping_max_fraction:
        raise InvalidAudio(
            f"The recording is heavily clipped / distorted ({clipped:.1%} of samples at full "
            "scale); record with lower input gain."
        )

    speech = _speech_samples(audio, sample_rate, vad or default_vad())
    found = min(speech.sum() / sample_rate, duration)
    if found == 0:
        raise InvalidAudio(NO_SPEECH_MESSAGE)
    if found < settings.min_speech_seconds:
        raise InvalidAudio(
            f"The recording holds only {math.floor(found * 10) / 10:.1f} seconds of speech; "
            "at least "
            f"{settings.min_speech_seconds:g} seconds of speech are needed. "
            "Record a longer sample."
        )

    trimmed, trimmed_speech = _trim_to_speech(audio, speech, sample_rate)
    return _normalise_loudness(trimmed, trimmed_speech, settings.target_loudness_dbfs)


def speech_seconds(samples: np.ndarray, sample_rate: int, vad: SileroVad | None = None) -> float:
    """Seconds of speech in ``samples`` according to the voice-activity detector."""
    audio = _as_mono_float32(samples)
    return float(_speech_samples(audio, sample_rate, vad or default_vad()).sum() / sample_rate)


def _speech_samples(audio: np.ndarray, sample_rate: int, vad: SileroVad) -> np.ndarray:
    """The detector's speech windows as a mask over the samples of ``audio``."""
    windows = vad.speech_mask(audio, sample_rate)
    window_length = WINDOW_SECONDS * sample_rate
    window_of_sample = (np.arange(len(audio)) / window_length).astype(np.int64)
    return windows[np.minimum(window_of_sample, len(windows) - 1)]


def bandwidth_hz(samples: np.ndarray, sample_rate: int) -> float:
    """The highest frequency the recording really holds.

    That is the top of its long-term spectrum within BAND_EDGE_DROP_DB of the level of its
    speech band. An energy share would not do: a low voice from a dull microphone keeps
    nearly all its energy below a phone line's edge, yet its highs are there.
    """
    power = long_term_spectrum(np.asarray(samples, dtype=np.float64), sample_rate)
    if not power.any():
        return 0.0
    frequencies = spectrum_frequencies(sample_rate)
    level_db = 10.0 * np.log10(power + _POWER_EPSILON * power.max())
    low, high = SPEECH_BAND_HZ
    speech_level = float(np.median(level_db[(frequencies >= low) & (frequencies <= high)]))
    held = np.nonzero(level_db > speech_level - BAND_EDGE_DROP_DB)[0]
    return float(frequencies[held[-1]])


def is_narrow_band(samples: np.ndarray, sample_rate: int) -> bool:
    """Whether the recording went through a phone line or a low-rate codec."""
    return bandwidth_hz(samples, sample_rate) < FULL_BAND_HZ


def clipped_fraction(samples: np.ndarray) -> float:
    """Share of samples at (or beyond) full scale."""
    audio = np.asarray(samples)
    if audio.size == 0:
        return 0.0
    return float(np.count_nonzero(np.abs(audio) >= CLIPPED_SAMPLE_LEVEL) / audio.size)


def pool_references(
    references: Sequence[np.ndarray], sample_rate: int, *, gap_seconds: float = POOL_GAP_SECONDS
) -> np.ndarray:
    """Join several prepared recordings of one voice, separated by short silences."""
    if not references:
        raise InvalidAudio("No reference recordings were given.")
    gap = np.zeros(round(gap_seconds * sample_rate), dtype=np.float32)
    pieces: list[np.ndarray] = []
    for index, reference in enumerate(references):
        if index:
            pieces.append(gap)
        pieces.append(_as_mono_float32(reference))
    return np.concatenate(pieces)


def describe_duration(seconds: float) -> str:
    """A duration as people say it: "2.5 seconds", "1 minute", "5 minutes 12 seconds"."""
    if seconds < 60:
        return _plural(round(seconds, 1), "second")
    minutes, rest = divmod(round(seconds), 60)
    text = _plural(minutes, "minute")
    return f"{text} {_plural(rest, 'second')}" if rest else text


def _plural(amount: float, unit: str) -> str:
    return f"{amount:g} {unit}" if amount == 1 else f"{amount:g} {unit}s"


def _as_mono_float32(samples: np.ndarray) -> np.ndarray:
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {audio.shape}")
    return audio


def _frame_length(sample_rate: int) -> int:
    return max(1, round(LEVEL_FRAME_SECONDS * sample_rate))


def frame_levels_db(audio: np.ndarray, frame_length: int) -> np.ndarray:
    """RMS level in dBFS of consecutive frames; the last, partial frame is zero-padded."""
    frame_count = -(-len(audio) // frame_length)
    padded = np.zeros(frame_count * frame_length, dtype=np.float64)
    padded[: len(audio)] = audio
    power = np.mean(padded.reshape(frame_count, frame_length) ** 2, axis=1)
    result: np.ndarray = 10.0 * np.log10(power + _POWER_EPSILON)
    return result


def _trim_to_speech(
    audio: np.ndarray, speech: np.ndarray, sample_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut leading and trailing non-speech, keeping a margin; return audio and speech mask."""
    speech_samples = np.flatnonzero(speech)
    margin = round(TRIM_MARGIN_SECONDS * sample_rate)
    start = max(0, speech_samples[0] - margin)
    end = min(len(audio), speech_samples[-1] + 1 + margin)
    return audio[start:end], speech[start:end]


def _normalise_loudness(
    audio: np.ndarray, speech_samples: np.ndarray, target_dbfs: float
) -> np.ndarray:
    """Scale so speech has RMS ``target_dbfs``, but never let a peak pass the ceiling."""
    speech_power = float(np.mean(np.square(audio[speech_samples], dtype=np.float64)))
    gain = 10.0 ** ((target_dbfs - 10.0 * np.log10(speech_power + _POWER_EPSILON)) / 20.0)
    peak = float(np.max(np.abs(audio)))
    ceiling = 10.0 ** (PEAK_CEILING_DBFS / 20.0)
    if peak * gain > ceiling:
        gain = ceiling / peak
    result: np.ndarray = (audio * gain).astype(np.float32)
    return result
