"""The degradations the style encoder learns from and the quality benchmark clones from."""

from __future__ import annotations

import numpy as np

from voiceclone.audio.degrade import (
    add_noise,
    add_room,
    degrade_randomly,
    phone_call,
    random_crop,
)
from voiceclone.audio.reference import bandwidth_hz, is_narrow_band

RATE = 24_000


def _speechlike(
    seconds: float = 5.0, seed: int = 0, harmonic_tilt: float = 1.0, hiss: float = 0.02
) -> np.ndarray:
    """Harmonics of a wandering pitch up to 10 kHz (the k-th at 1/k**harmonic_tilt) under a
    syllable-rate envelope, plus broadband hiss: full band, as a direct recording is."""
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voice = sum(np.sin(k * phase) / k**harmonic_tilt for k in range(1, 70) if k * 170 < 10_000)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    noise = np.random.default_rng(seed).normal(0, hiss, len(t))
    audio = 0.2 * voice * envelope + noise
    return (audio / np.max(np.abs(audio)) * 0.5).astype(np.float32)


def test_a_phone_call_loses_the_highs_the_service_tells_a_phone_call_by() -> None:
    clean = _speechlike()
    assert not is_narrow_band(clean, RATE)
    called = phone_call(clean, RATE)
    assert called.dtype == np.float32 and abs(len(called) - len(clean)) < RATE // 10
    assert bandwidth_hz(called, RATE) < 4_500
    assert is_narrow_band(called, RATE)


def test_a_dull_direct_recording_is_not_taken_for_a_phone_call() -> None:
    # Harmonics falling 9 dB an octave and no hiss: almost all energy under 2.5 kHz.
    dull = _speechlike(harmonic_tilt=1.5, hiss=0.0)
    assert bandwidth_hz(dull, RATE) > 9_000 and not is_narrow_band(dull, RATE)
    assert is_narrow_band(phone_call(dull, RATE), RATE)


def test_digital_silence_holds_no_band() -> None:
    assert bandwidth_hz(np.zeros(RATE, dtype=np.float32), RATE) == 0.0


def test_noise_is_added_at_the_asked_signal_to_noise_ratio() -> None:
    clean = _speechlike()
    noisy = add_noise(clean, 20.0, np.random.default_rng(1))
    noise = noisy - clean
    snr = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
    assert abs(snr - 20.0) < 0.5


def test_a_room_adds_a_decaying_tail_and_keeps_the_peak_level() -> None:
    click = np.zeros(RATE, dtype=np.float32)
    click[100] = 0.5
    wet = add_room(click, RATE, 0.4, np.random.default_rng(2))
    assert np.isclose(np.max(np.abs(wet)), 0.5, atol=1e-6)
    early = np.mean(wet[200 : 200 + RATE // 20] ** 2)
    late = np.mean(wet[RATE // 4 : RATE // 4 + RATE // 20] ** 2)
    assert early > 0 and late < early / 10


def test_crops_are_as_long_as_asked_or_the_whole_clip() -> None:
    audio = _speechlike(5.0)
    rng = np.random.default_rng(3)
    assert len(random_crop(audio, RATE, 2.0, rng)) == 2 * RATE
    assert len(random_crop(audio, RATE, 9.0, rng)) == len(audio)


def test_random_degradation_is_short_and_repeatable() -> None:
    audio = _speechlike(5.0)
    copies = [degrade_randomly(audio, RATE, np.random.default_rng([7, i])) for i in range(12)]
    again = degrade_randomly(audio, RATE, np.random.default_rng([7, 0]))
    assert np.array_equal(copies[0], again)
    for copy in copies:
        assert 1.4 * RATE <= len(copy) <= 4.1 * RATE and np.isfinite(copy).all()
    # Some copies went through a phone line and some did not.
    narrow = [is_narrow_band(copy, RATE) for copy in copies]
    assert any(narrow) and not all(narrow)
