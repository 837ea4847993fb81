"""Cloning v2: a learned style encoder, features of a recording -> Kokoro style.

Kokoro has no encoder from audio to its 256-d style space, so one is learned from audio the
engine makes itself (see :mod:`voiceclone.engines.kokoro.offline.train_style_encoder`):
styles sampled around the stock voices are spoken, each recording is described by cheap
features (the d-vector of :mod:`voiceclone.cloning.embedder` plus pitch, spectral tilt and
rate statistics), and a small model maps the features back to the style's mean row.

At voice creation the predicted row replaces the mean row of a base table (the stock-voice
blend), which keeps Kokoro's per-length row structure. Runtime is numpy only; the weights
are a small ``.npz`` committed under ``engines/kokoro/weights/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from voiceclone.cloning.embedder import SAMPLE_RATE, SpeakerEmbedder

FEATURE_VERSION = 1
WEIGHTS_PACKAGE = "voiceclone.engines.kokoro.weights"
METHOD_V1 = "style-encoder-v1"
"""Trained on the engine's own clean recordings only."""
METHOD_V2 = "style-encoder-v2"
"""Trained on those recordings and on short, phone-band, coded, echoing and noisy copies."""
WEIGHTS_FILES = {METHOD_V1: "style_encoder_v1.npz", METHOD_V2: "style_encoder_v2.npz"}
METHOD = METHOD_V2
"""The newest method, which ``auto`` cloning takes for a phone-band reference."""

# Pitch tracking at 16 kHz: 40 ms frames every 10 ms, 60-400 Hz.
PITCH_FRAME = 640
PITCH_HOP = 160
PITCH_FFT = 2048
MIN_F0, MAX_F0 = 60.0, 400.0
VOICING_THRESHOLD = 0.5
MIN_VOICED_FRAMES = 5
LOUD_RELATIVE_DB = 35.0
TILT_BAND_HZ = (100.0, 7000.0)

PROSODY_NAMES = (
    "log2_f0_median",
    "f0_spread_semitones",
    "voiced_fraction",
    "spectral_tilt_db_per_octave",
    "log2_centroid",
    "energy_peaks_per_second",
)


def _frames(samples: np.ndarray, length: int, hop: int) -> np.ndarray:
    if len(samples) < length:
        samples = np.pad(samples, (0, length - len(samples)))
    count = 1 + (len(samples) - length) // hop
    return np.lib.stride_tricks.sliding_window_view(samples, length)[::hop][:count]


@dataclass(frozen=True)
class _PitchTrack:
    f0: np.ndarray  # Hz, one value a frame
    voiced: np.ndarray
    loud: np.ndarray
    energy_db: np.ndarray
    power: np.ndarray  # each frame's power spectrum (PITCH_FFT points)


def _track_pitch(samples_16k: np.ndarray) -> _PitchTrack:
    """Autocorrelation pitch of 40-ms frames, with which frames are loud and voiced."""
    audio = np.asarray(samples_16k, dtype=np.float64)
    frames = _frames(audio, PITCH_FRAME, PITCH_HOP)
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy_db = 10 * np.log10((frames**2).mean(axis=1) + 1e-12)
    loud = energy_db > energy_db.max() - LOUD_RELATIVE_DB

    window = np.hanning(PITCH_FRAME)
    spectrum = np.fft.rfft(frames * window, n=PITCH_FFT, axis=1)
    power = np.abs(spectrum) ** 2
    autocorr = np.fft.irfft(power, axis=1)[:, :PITCH_FRAME]
    # Normalise by the window's own autocorrelation so long lags are not penalised.
    window_ac = np.correlate(window, window, mode="full")[PITCH_FRAME - 1 :]
    autocorr = autocorr / (autocorr[:, :1] + 1e-12) / (window_ac / window_ac[0] + 1e-3)
    low, high = int(SAMPLE_RATE / MAX_F0), int(SAMPLE_RATE / MIN_F0)
    lags = autocorr[:, low:high]
    best = lags.argmax(axis=1)
    strength = lags[np.arange(len(lags)), best]
    voiced = loud & (strength > VOICING_THRESHOLD)
    f0 = SAMPLE_RATE / (best + low)
    return _PitchTrack(f0, voiced, loud, energy_db, power)


@dataclass(frozen=True)
class PitchSummary:
    median_log2: float | None  # log2 of the median pitch (Hz); None with too little voicing
    voiced_seconds: float


def summarize_pitch(samples_16k: np.ndarray) -> PitchSummary:
    """The median pitch of the voiced frames, and how many seconds of voicing it rests on."""
    track = _track_pitch(samples_16k)
    count = int(track.voiced.sum())
    median = (
        float(np.median(np.log2(track.f0[track.voiced]))) if count >= MIN_VOICED_FRAMES else None
    )
    return PitchSummary(median, count * PITCH_HOP / SAMPLE_RATE)


def prosody_features(samples_16k: np.ndarray) -> np.ndarray:
    """Pitch level and spread, voicing, spectral tilt and centroid, and a syllable-rate proxy."""
    track = _track_pitch(samples_16k)
    voiced, loud, energy_db, power = track.voiced, track.loud, track.energy_db, track.power
    if voiced.sum() >= MIN_VOICED_FRAMES:
        log_f0 = np.log2(track.f0[voiced])
        median = float(np.median(log_f0))
        q75, q25 = np.percentile(log_f0, [75, 25])
        spread = float((q75 - q25) * 12)
    else:
        median, spread = float(np.log2(150.0)), 0.0
    voiced_fraction = float(voiced.sum() / max(1, loud.sum()))

    freqs = np.fft.rfftfreq(PITCH_FFT, 1 / SAMPLE_RATE)
    band = (freqs >= TILT_BAND_HZ[0]) & (freqs <= TILT_BAND_HZ[1])
    mean_power = power[loud].mean(axis=0) if loud.any() else power.mean(axis=0)
    level_db = 10 * np.log10(mean_power[band] + 1e-12)
    octaves = np.log2(freqs[band])
    tilt = float(np.polyfit(octaves, level_db, 1)[0])
    centroid = float((freqs[band] * mean_power[band]).sum() / (mean_power[band].sum() + 1e-12))

    # Syllable-rate proxy: peaks of the smoothed loudness envelope per second of speech.
    envelope = np.convolve(energy_db, np.ones(5) / 5, mode="same")
    peaks = (envelope[1:-1] > envelope[:-2]) & (envelope[1:-1] >= envelope[2:])
    peaks &= envelope[1:-1] > energy_db.max() - 25
    speech_seconds = max(loud.sum() * PITCH_HOP / SAMPLE_RATE, 0.5)
    rate = float(peaks.sum() / speech_seconds)
    return np.array(
        [median, spread, voiced_fraction, tilt, np.log2(centroid + 1.0), rate], dtype=np.float32
    )


def recording_features(samples_16k: np.ndarray, embedder: SpeakerEmbedder) -> np.ndarray:
    """The encoder's input: d-vector (256) followed by :data:`PROSODY_NAMES`."""
    return np.concatenate([embedder.embed(samples_16k), prosody_features(samples_16k)])


def pooled_features(features: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Length-weighted mean of per-recording features, the d-vector part re-normalised."""
    pooled = np.average(np.stack(features), axis=0, weights=weights).astype(np.float32)
    dvector = pooled[: -len(PROSODY_NAMES)]
    pooled[: len(dvector)] = dvector / (np.linalg.norm(dvector) + 1e-12)
    return pooled


@dataclass(frozen=True)
class StyleEncoder:
    """Standardise features, a small MLP (or linear map) to the style's mean row."""

    feature_mean: np.ndarray
    feature_scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    target_mean: np.ndarray
    strength: float = 1.0
    feature_version: int = FEATURE_VERSION
    degraded_views: int = 0
    """Degraded copies per recording it was trained on (0: clean speech only, and then a
    phone-band reference misleads it)."""
    real_speech_dvector: np.ndarray | None = None
    """Mean d-vector of real people's recordings (``voiceclone calibrate-style-encoder``);
    None when the encoder was never shown any."""

    @classmethod
    def load(cls, path: Path | str) -> StyleEncoder:
        with np.load(path) as data:
            count = int(data["layer_count"])
            layers = tuple((data[f"w{i}"], data[f"b{i}"]) for i in range(count))
            return cls(
                feature_mean=data["feature_mean"],
                feature_scale=data["feature_scale"],
                layers=layers,
                target_mean=data["target_mean"],
                strength=float(data["strength"]),
                feature_version=int(data["feature_version"]),
                degraded_views=int(data["degraded_views"]) if "degraded_views" in data else 0,
                real_speech_dvector=data.get("real_speech_dvector"),
            )

    def save(self, path: Path | str) -> None:
        arrays = {f"w{i}": w for i, (w, _) in enumerate(self.layers)}
        arrays |= {f"b{i}": b for i, (_, b) in enumerate(self.layers)}
        payload: dict[str, Any] = {
            "feature_mean": self.feature_mean.astype(np.float32),
            "feature_scale": self.feature_scale.astype(np.float32),
            "target_mean": self.target_mean.astype(np.float32),
            "strength": np.float32(self.strength),
            "feature_version": np.int32(self.feature_version),
            "layer_count": np.int32(len(self.layers)),
            "degraded_views": np.int32(self.degraded_views),
            **{k: v.astype(np.float32) for k, v in arrays.items()},
        }
        if self.real_speech_dvector is not None:
            payload["real_speech_dvector"] = self.real_speech_dvector.astype(np.float32)
        np.savez_compressed(path, **payload)

    def predict(
        self, features: np.ndarray, strength: float | None = None, real_speech_gain: float = 1.0
    ) -> np.ndarray:
        """The style row (256,) for one feature vector, or (n, 256) for a batch.

        Real recordings' d-vectors sit apart from the engine's own speech, which the encoder
        was trained on; that offset, read through the encoder, moves a clone toward human
        voices. ``real_speech_gain`` scales it (1: as read; needs :attr:`real_speech_dvector`).
        """
        x = (np.atleast_2d(features) - self._centre(real_speech_gain)) / self.feature_scale
        for index, (weight, bias) in enumerate(self.layers):
            x = x @ weight + bias
            if index < len(self.layers) - 1:
                x = np.maximum(x, 0.0)  # ReLU
        alpha = self.strength if strength is None else strength
        # The model predicts an offset from the mean style; strength undoes its shrinkage.
        row = self.target_mean + alpha * x
        row = row.astype(np.float32)
        result: np.ndarray = row[0] if np.ndim(features) == 1 else row
        return result

    def _centre(self, real_speech_gain: float) -> np.ndarray:
        """The feature mean, moved against the real-speech offset by ``gain - 1`` of it."""
        if self.real_speech_dvector is None or real_speech_gain == 1.0:
            return self.feature_mean
        centre = self.feature_mean.copy()
        dims = len(self.real_speech_dvector)
        offset = self.real_speech_dvector - self.feature_mean[:dims]
        centre[:dims] -= (real_speech_gain - 1.0) * offset
        return centre


def with_mean_row(base_table: np.ndarray, row: np.ndarray) -> np.ndarray:
    """``base_table`` shifted so that its mean row is ``row``; per-length variation is kept."""
    table = np.asarray(base_table, dtype=np.float32)
    result: np.ndarray = (table - table.mean(axis=0, keepdims=True) + row[None, :]).astype(
        np.float32
    )
    return result


def bundled_weights(method: str = METHOD) -> Path | None:
    """The committed weights of ``method``, or None when this install has none."""
    try:
        path = resources.files(WEIGHTS_PACKAGE).joinpath(WEIGHTS_FILES[method])
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


@lru_cache(maxsize=4)
def load_encoder(path: str | None = None, method: str = METHOD) -> StyleEncoder | None:
    """The encoder at ``path`` (default: ``method``'s bundled one), cached; None if there
    is none."""
    chosen = Path(path) if path else bundled_weights(method)
    if chosen is None or not chosen.is_file():
        return None
    encoder = StyleEncoder.load(chosen)
    if encoder.feature_version != FEATURE_VERSION:
        return None
    return encoder
