"""Speaker d-vectors from the bundled ONNX embedder (256-d, 16 kHz, L2-normalised).

The recipe matches the embedder's training: 40-band log10 mel filterbank (Slaney scale,
Hamming window, no centre padding), 80-frame windows with a 40-frame stride, one
embedding per window, then L2 per window, mean, and L2 again.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort

SAMPLE_RATE = 16_000
N_FFT = 512
WIN_LENGTH = 400
HOP_LENGTH = 160
N_MELS = 40
WINDOW_FRAMES = 80
WINDOW_STRIDE = 40
LOG_FLOOR = 1e-10


def _hz_to_slaney_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / f_sp
    log_part = min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log_part, linear)


def _slaney_mel_to_hz(mel: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(
        mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel
    )


@lru_cache(maxsize=4)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular, area-normalised ("slaney") mel filters, shape (n_mels, n_fft // 2 + 1)."""
    fft_freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    mel_edges = np.linspace(
        _hz_to_slaney_mel(np.array(0.0)), _hz_to_slaney_mel(np.array(sample_rate / 2)), n_mels + 2
    )
    hz_edges = _slaney_mel_to_hz(mel_edges)
    widths = np.diff(hz_edges)
    ramps = hz_edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_edges[2 : n_mels + 2] - hz_edges[:n_mels]))[:, None]
    return weights.astype(np.float32)


@lru_cache(maxsize=1)
def _analysis_window() -> np.ndarray:
    """A periodic Hamming window of WIN_LENGTH, zero-padded to N_FFT around the centre."""
    n = np.arange(WIN_LENGTH)
    window = 0.54 - 0.46 * np.cos(2 * np.pi * n / WIN_LENGTH)
    padded = np.zeros(N_FFT, dtype=np.float64)
    start = (N_FFT - WIN_LENGTH) // 2
    padded[start : start + WIN_LENGTH] = window
    return padded


def log_mel_frames(samples: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) log10 mel power of 16 kHz audio."""
    samples = np.asarray(samples, dtype=np.float64)
    if len(samples) < N_FFT:
        samples = np.pad(samples, (0, N_FFT - len(samples)))
    n_frames = 1 + (len(samples) - N_FFT) // HOP_LENGTH
    frames = np.lib.stride_tricks.sliding_window_view(samples, N_FFT)[::HOP_LENGTH][:n_frames]
    power = np.abs(np.fft.rfft(frames * _analysis_window(), axis=-1)) ** 2
    mel = power @ mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS).T
    result: np.ndarray = np.log10(mel + LOG_FLOOR).astype(np.float32)
    return result


def _windows(features: np.ndarray) -> np.ndarray:
    if len(features) < WINDOW_FRAMES:
        pad = np.zeros((WINDOW_FRAMES - len(features), N_MELS), dtype=features.dtype)
        features = np.concatenate([features, pad])
    count = 1 + (len(features) - WINDOW_FRAMES) // WINDOW_STRIDE
    starts = np.arange(count) * WINDOW_STRIDE
    return np.stack([features[s : s + WINDOW_FRAMES] for s in starts]).astype(np.float32)


def _l2(vectors: np.ndarray) -> np.ndarray:
    result: np.ndarray = vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)
    return result


class SpeakerEmbedder:
    """Computes 256-d speaker d-vectors; thread-safe, one ONNX session per instance."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def embed(self, samples_16k: np.ndarray) -> np.ndarray:
        """One L2-normalised d-vector for a 16 kHz recording."""
        windows = _windows(log_mel_frames(samples_16k))
        with self._lock:
            per_window = self._session.run(None, {"mel_window": windows})[0]
        return _l2(_l2(per_window).mean(axis=0)).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(_l2(a), _l2(b)))
