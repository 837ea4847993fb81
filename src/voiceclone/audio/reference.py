"""Check and clean a decoded reference recording before a voice is cloned from it.

A reference must be short enough, not silent, not badly clipped and hold enough speech.
Speech is found with a simple energy detector over short frames: a frame is speech when its
level is within :data:`VAD_RELATIVE_DB` of the loud frames and above an absolute floor.
The accepted recording is trimmed to its speech (plus a small margin) and brought to a
common loudness.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voiceclone.errors import InvalidAudio
from voiceclone.settings import get_settings

VAD_FRAME_SECONDS = 0.025
#: Frames quieter than this are never speech, whatever the rest of the recording does.
VAD_FLOOR_DBFS = -50.0
#: Frames more than this far below the loud frames are pauses or background.
VAD_RELATIVE_DB = 30.0
#: The "loud frames" level: this percentile of the frame levels above the floor.
VAD_LOUD_PERCENTILE = 95.0

TRIM_MARGIN_SECONDS = 0.1
PEAK_CEILING_DBFS = -1.0
CLIPPED_SAMPLE_LEVEL = 0.999
POOL_GAP_SECONDS = 0.3

_POWER_EPSILON = 1e-12  # keeps log10 finite for digital silence (-120 dB)


def prepare_reference(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Validate a mono reference recording and return it trimmed and loudness-normalised.

    Raises :class:`InvalidAudio` when the recording is too long, silent, heavily clipped or
    holds less than ``min_speech_seconds`` of speech.
    """
    settings = get_settings()
    audio = _as_mono_float32(samples)

    duration = len(audio) / sample_rate
    if duration > settings.max_reference_seconds:
        raise InvalidAudio(
            f"The recording is {describe_duration(duration)} long — longer than "
            f"{describe_duration(settings.max_reference_seconds)}, the most a voice reference "
            "may be. Trim it and try again."
        )

    frame_length = _frame_length(sample_rate)
    levels = _frame_levels_db(audio, frame_length)
    if levels.size == 0 or levels.max() < VAD_FLOOR_DBFS:
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

    speech = _speech_mask(levels)
    found = speech.sum() * frame_length / sample_rate
    if found < settings.min_speech_seconds:
        raise InvalidAudio(
            f"The recording holds only {found:.1f} seconds of speech; at least "
            f"{settings.min_speech_seconds:g} seconds of speech are needed. "
            "Record a longer sample."
        )

    trimmed, trimmed_speech = _trim_to_speech(audio, speech, frame_length, sample_rate)
    return _normalise_loudness(trimmed, trimmed_speech, settings.target_loudness_dbfs)


def speech_seconds(samples: np.ndarray, sample_rate: int) -> float:
    """Seconds of speech in ``samples`` according to the energy voice-activity detector."""
    audio = _as_mono_float32(samples)
    frame_length = _frame_length(sample_rate)
    speech = _speech_mask(_frame_levels_db(audio, frame_length))
    return float(speech.sum() * frame_length / sample_rate)


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
    return max(1, round(VAD_FRAME_SECONDS * sample_rate))


def _frame_levels_db(audio: np.ndarray, frame_length: int) -> np.ndarray:
    """RMS level in dBFS of consecutive frames; the last, partial frame is zero-padded."""
    frame_count = -(-len(audio) // frame_length)
    padded = np.zeros(frame_count * frame_length, dtype=np.float64)
    padded[: len(audio)] = audio
    power = np.mean(padded.reshape(frame_count, frame_length) ** 2, axis=1)
    return 10.0 * np.log10(power + _POWER_EPSILON)


def _speech_mask(levels_db: np.ndarray) -> np.ndarray:
    """True for frames loud enough, both absolutely and relative to the loud frames."""
    audible = levels_db[levels_db >= VAD_FLOOR_DBFS]
    if audible.size == 0:
        return np.zeros(levels_db.shape, dtype=bool)
    loud_level = np.percentile(audible, VAD_LOUD_PERCENTILE)
    threshold = max(VAD_FLOOR_DBFS, loud_level - VAD_RELATIVE_DB)
    return levels_db >= threshold


def _trim_to_speech(
    audio: np.ndarray, speech: np.ndarray, frame_length: int, sample_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut leading and trailing non-speech, keeping a margin; return audio and a sample mask."""
    speech_frames = np.flatnonzero(speech)
    margin = round(TRIM_MARGIN_SECONDS * sample_rate)
    start = max(0, speech_frames[0] * frame_length - margin)
    end = min(len(audio), (speech_frames[-1] + 1) * frame_length + margin)
    sample_mask = np.repeat(speech, frame_length)[: len(audio)]
    return audio[start:end], sample_mask[start:end]


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
    return (audio * gain).astype(np.float32)
