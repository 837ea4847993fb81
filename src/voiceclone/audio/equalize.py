"""Timbre matching: an equaliser that moves a voice's spectral envelope toward a reference.

A reference recording carries its speaker's long-term spectrum (vocal tract, microphone,
room). The engine's rendering of a cloned style has its own. The difference, measured on
mel-spaced bands over loud frames only and applied at partial strength, becomes a short
zero-phase FIR filter that every chunk of that voice passes through.
"""

from __future__ import annotations

import numpy as np

FFT_SIZE = 1024
HOP = FFT_SIZE // 4
BAND_COUNT = 40
LOWEST_HZ, HIGHEST_HZ = 60.0, 11_000.0
LOUD_RELATIVE_DB = 35.0
MAX_GAIN_DB = 12.0
# Bands this far below the reference's strongest hold no information about the voice (above
# the Nyquist of a low-rate or phone recording): they are left as the engine makes them.
EMPTY_BAND_DB = 60.0
FILTER_TAPS = 511


def _mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def spectrum_frequencies(sample_rate: int) -> np.ndarray:
    """The frequency (Hz) of each bin of :func:`long_term_spectrum`."""
    return np.fft.rfftfreq(FFT_SIZE, 1.0 / sample_rate)


def _band_edges(sample_rate: int) -> np.ndarray:
    """Edges (Hz) of the :data:`BAND_COUNT` overlapping triangular mel bands."""
    highest = min(HIGHEST_HZ, sample_rate / 2 - 1)
    return _hz(np.linspace(_mel(LOWEST_HZ), _mel(highest), BAND_COUNT + 2))


def band_centres(sample_rate: int) -> np.ndarray:
    """Centre frequencies (Hz) of the bands."""
    return _band_edges(sample_rate)[1:-1]


def _band_weights(sample_rate: int) -> np.ndarray:
    """(bands, bins) triangular weights on the FFT bins."""
    freqs = spectrum_frequencies(sample_rate)
    edges = _band_edges(sample_rate)
    weights = np.zeros((BAND_COUNT, len(freqs)))
    for band in range(BAND_COUNT):
        low, centre, high = edges[band : band + 3]
        rising = (freqs - low) / (centre - low)
        falling = (high - freqs) / (high - centre)
        weights[band] = np.clip(np.minimum(rising, falling), 0.0, None)
    return weights


def long_term_spectrum(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean power per FFT bin over the loud frames (pauses would tilt it toward noise)."""
    audio = np.asarray(samples, dtype=np.float64)
    if len(audio) < FFT_SIZE:
        audio = np.pad(audio, (0, FFT_SIZE - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(audio, FFT_SIZE)[::HOP]
    power = np.abs(np.fft.rfft(frames * np.hanning(FFT_SIZE), axis=1)) ** 2
    level_db = 10.0 * np.log10(power.sum(axis=1) + 1e-12)
    loud = level_db > level_db.max() - LOUD_RELATIVE_DB
    result: np.ndarray = power[loud].mean(axis=0)
    return result


def band_levels_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The long-term level (dB) in each band: the spectral envelope that is matched."""
    bands = _band_weights(sample_rate) @ long_term_spectrum(samples, sample_rate)
    result: np.ndarray = 10.0 * np.log10(bands + 1e-12)
    return result


def matching_gains_db(
    reference: np.ndarray,
    rendered: np.ndarray,
    sample_rate: int,
    strength: float,
    up_to_hz: float | None = None,
) -> np.ndarray:
    """Per-band gains (dB) that move ``rendered``'s envelope ``strength`` of the way to
    ``reference``'s, loudness-neutral (weighted by the reference's band energy). Bands
    centred above ``up_to_hz`` are left as the engine makes them."""
    reference_levels = band_levels_db(reference, sample_rate)
    difference = reference_levels - band_levels_db(rendered, sample_rate)
    difference -= np.average(difference, weights=10.0 ** (reference_levels / 10.0))
    gains = np.clip(difference * strength, -MAX_GAIN_DB, MAX_GAIN_DB)
    gains[reference_levels < reference_levels.max() - EMPTY_BAND_DB] = 0.0
    if up_to_hz is not None:
        gains[band_centres(sample_rate) > up_to_hz] = 0.0
    result: np.ndarray = gains.astype(np.float32)
    return result


def equalizer_taps(gains_db: np.ndarray, sample_rate: int) -> np.ndarray:
    """A zero-phase (symmetric, windowed) FIR whose response follows ``gains_db``."""
    freqs = spectrum_frequencies(sample_rate)
    response_db = np.interp(freqs, band_centres(sample_rate), np.asarray(gains_db, np.float64))
    impulse = np.fft.irfft(10.0 ** (response_db / 20.0), FFT_SIZE)
    centred = np.roll(impulse, FILTER_TAPS // 2)[:FILTER_TAPS]
    return (centred * np.hanning(FILTER_TAPS)).astype(np.float32)


def apply_equalizer(samples: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """``samples`` filtered by ``taps``, same length and alignment (FFT convolution)."""
    if len(samples) == 0:
        return np.asarray(samples, dtype=np.float32)
    size = len(samples) + len(taps) - 1
    fft_size = 1 << (size - 1).bit_length()
    full = np.fft.irfft(np.fft.rfft(samples, fft_size) * np.fft.rfft(taps, fft_size), fft_size)[
        :size
    ]
    start = len(taps) // 2
    return full[start : start + len(samples)].astype(np.float32)
