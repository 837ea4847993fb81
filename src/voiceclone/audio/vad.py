"""Where the speech is: Silero VAD v6 (a trained voice-activity model) through onnxruntime.

The model scores 32 ms windows of 16 kHz audio, each seen with the 4 ms before it; the
batched export takes every window of a recording in one call. Windows are then turned into
speech regions the way Silero's own utility does: a window opens speech at
``threshold`` and closes it below ``threshold - 0.15``; pauses shorter than
:data:`MERGE_GAP_SECONDS` stay inside the speech around them, and each region is padded by
:data:`PAD_SECONDS` so word edges are not cut.
"""

from __future__ import annotations

import itertools
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort
import soxr

VAD_RATE = 16_000
WINDOW_SAMPLES = 512  # 32 ms at 16 kHz
CONTEXT_SAMPLES = 64
STATE_SHAPE = (1, 1, 128)
WINDOW_SECONDS = WINDOW_SAMPLES / VAD_RATE
DEFAULT_THRESHOLD = 0.5
HYSTERESIS = 0.15
MERGE_GAP_SECONDS = 0.3
PAD_SECONDS = 0.1


class SileroVad:
    """Speech probability per 32 ms window; thread-safe (one small session, serialised)."""

    def __init__(self, model_path: Path) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def window_probabilities(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """One speech probability per window of :data:`WINDOW_SECONDS` (the last one padded)."""
        audio = np.asarray(samples, dtype=np.float32)
        if sample_rate != VAD_RATE:
            audio = soxr.resample(audio, sample_rate, VAD_RATE).astype(np.float32)
        if audio.size == 0:
            return np.zeros(0, dtype=np.float32)
        windows = np.pad(audio, (0, (-audio.size) % WINDOW_SAMPLES)).reshape(-1, WINDOW_SAMPLES)
        context = np.zeros((len(windows), CONTEXT_SAMPLES), dtype=np.float32)
        context[1:] = windows[:-1, -CONTEXT_SAMPLES:]
        state = np.zeros(STATE_SHAPE, dtype=np.float32)
        feed = {"input": np.concatenate([context, windows], axis=1), "h": state, "c": state}
        with self._lock:
            probabilities = self._session.run(None, feed)[0]
        return np.asarray(probabilities, dtype=np.float32).reshape(-1)

    def speech_mask(
        self, samples: np.ndarray, sample_rate: int, threshold: float = DEFAULT_THRESHOLD
    ) -> np.ndarray:
        """True for each window inside a speech region (see the module docstring)."""
        return speech_regions(self.window_probabilities(samples, sample_rate), threshold)


def speech_regions(probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Window probabilities to a speech mask: hysteresis, short pauses merged, edges padded."""
    release = max(threshold - HYSTERESIS, 0.01)
    mask = np.zeros(len(probabilities), dtype=bool)
    active = False
    for index, probability in enumerate(probabilities):
        if probability >= threshold:
            active = True
        elif probability < release:
            active = False
        mask[index] = active
    speech = np.flatnonzero(mask)
    merge_gap = round(MERGE_GAP_SECONDS / WINDOW_SECONDS)
    for before, after in itertools.pairwise(speech):
        if 1 < after - before <= merge_gap:
            mask[before:after] = True
    pad = round(PAD_SECONDS / WINDOW_SECONDS)
    return np.convolve(mask, np.ones(2 * pad + 1), mode="same") > 0


@lru_cache(maxsize=4)
def load_vad(model_path: Path) -> SileroVad:
    return SileroVad(model_path)


def default_vad() -> SileroVad:
    """The installed detector (``voiceclone models install`` puts it in the asset home)."""
    from voiceclone.assets.paths import require_engine_assets

    return load_vad(require_engine_assets().vad_model)
