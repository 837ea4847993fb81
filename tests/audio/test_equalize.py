"""Timbre matching: band gains toward a reference spectrum, and the FIR that applies them."""

from __future__ import annotations

import numpy as np

from voiceclone.audio.equalize import (
    BAND_COUNT,
    MAX_GAIN_DB,
    apply_equalizer,
    band_centres,
    band_levels_db,
    equalizer_taps,
    matching_gains_db,
)

RATE = 24_000


def _noise(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(RATE * seconds)).astype(np.float32) * 0.1


def _darker(audio: np.ndarray) -> np.ndarray:
    """A one-pole low-pass: less energy the higher the frequency."""
    out = np.empty_like(audio)
    state = 0.0
    for i, x in enumerate(audio):
        state = 0.9 * state + 0.1 * x
        out[i] = state
    return out


def _envelope_distance(a: np.ndarray, b: np.ndarray) -> float:
    difference = band_levels_db(a, RATE) - band_levels_db(b, RATE)
    return float(np.std(difference))  # level offsets do not count, only shape


def test_same_spectrum_needs_no_correction():
    audio = _noise()
    gains = matching_gains_db(audio, audio, RATE, strength=1.0)
    assert gains.shape == (BAND_COUNT,)
    assert np.abs(gains).max() < 1e-3


def test_gains_follow_a_darker_reference():
    reference, rendered = _darker(_noise(seed=1)), _noise(seed=2)
    gains = matching_gains_db(reference, rendered, RATE, strength=1.0)
    assert gains[:5].mean() > 0 > gains[-5:].mean()
    assert np.abs(gains).max() <= MAX_GAIN_DB


def test_bands_a_band_limited_reference_lacks_are_left_alone():
    """A recording made at 16 kHz has nothing above 8 kHz: no reason to cut the voice there."""
    import soxr

    reference = soxr.resample(soxr.resample(_noise(seed=1), RATE, 16_000), 16_000, RATE)
    gains = matching_gains_db(reference, _noise(seed=2), RATE, strength=1.0)
    above = band_centres(RATE) > 8_500
    assert above.any()
    assert np.all(gains[above] == 0.0)
    below = band_centres(RATE) < 7_500  # both are white there
    assert np.abs(gains[below]).max() < 3.0


def test_bands_above_the_asked_frequency_are_left_alone():
    reference, rendered = _darker(_noise(seed=1)), _noise(seed=2)
    gains = matching_gains_db(reference, rendered, RATE, strength=1.0, up_to_hz=3_000)
    above = band_centres(RATE) > 3_000
    assert np.all(gains[above] == 0.0)
    assert gains[~above][:5].mean() > 1.0  # the darker reference's lows are still matched


def test_strength_scales_the_correction():
    reference, rendered = _darker(_noise(seed=1)), _noise(seed=2)
    full = matching_gains_db(reference, rendered, RATE, strength=1.0)
    half = matching_gains_db(reference, rendered, RATE, strength=0.5)
    unclamped = np.abs(full) < MAX_GAIN_DB
    assert np.allclose(half[unclamped], full[unclamped] / 2, atol=1e-4)


def test_equalised_audio_moves_toward_the_reference():
    reference, rendered = _darker(_noise(seed=1)), _noise(seed=2)
    gains = matching_gains_db(reference, rendered, RATE, strength=0.5)
    equalised = apply_equalizer(rendered, equalizer_taps(gains, RATE))
    assert len(equalised) == len(rendered) and equalised.dtype == np.float32
    before = _envelope_distance(reference, rendered)
    after = _envelope_distance(reference, equalised)
    assert after < 0.75 * before, (before, after)


def test_flat_gains_leave_audio_nearly_unchanged():
    audio = _noise()
    out = apply_equalizer(audio, equalizer_taps(np.zeros(BAND_COUNT), RATE))
    middle = slice(1000, -1000)
    error = np.sqrt(np.mean((out[middle] - audio[middle]) ** 2))
    assert error < 0.1 * np.sqrt(np.mean(audio**2))


def test_empty_audio_passes_through():
    taps = equalizer_taps(np.zeros(BAND_COUNT), RATE)
    assert len(apply_equalizer(np.zeros(0, dtype=np.float32), taps)) == 0
