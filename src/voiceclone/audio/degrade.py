"""What happens to a voice on its way to an upload: a phone line, a codec, noise, a room.

The style encoder learns from these, so that the short, imperfect clips people record
are described the way clean ones are; the quality benchmark uses the same family to make
its phone-call references. Every function takes and returns mono float32 at ``rate``.
"""

from __future__ import annotations

import io

import av
import numpy as np
import soxr

PHONE_RATE = 8_000
PHONE_BITRATE = 32_000
PHONE_SNR_DB = 25.0


def mp3_roundtrip(audio: np.ndarray, rate: int, bitrate: int, codec_rate: int) -> np.ndarray:
    """``audio`` encoded as mp3 at ``bitrate`` bit/s and ``codec_rate`` Hz, then decoded."""
    narrow = soxr.resample(audio, rate, codec_rate)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as sink:
        stream = sink.add_stream("libmp3lame", rate=codec_rate)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        pcm = (np.clip(narrow, -1, 1) * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = codec_rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            sink.mux(packet)
    buffer.seek(0)
    with av.open(buffer, "r") as source:
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in source.decode(audio=0)])
    result: np.ndarray = soxr.resample(decoded.astype(np.float32), codec_rate, rate)
    return result.astype(np.float32)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise ``snr_db`` below the signal's mean power."""
    level = np.sqrt(np.mean(audio**2)) / 10 ** (snr_db / 20)
    return (audio + rng.normal(0, level, len(audio))).astype(np.float32)


def add_room(
    audio: np.ndarray, rate: int, rt60_seconds: float, rng: np.random.Generator
) -> np.ndarray:
    """``audio`` in a room whose echo dies by 60 dB in ``rt60_seconds`` (a synthetic
    exponentially decaying impulse response), at the dry signal's peak level."""
    length = max(1, int(rt60_seconds * rate))
    decay = np.exp(-6.9 * np.arange(length) / length)  # ln(1000): -60 dB at the end
    response = rng.standard_normal(length) * decay
    response[0] = 0.0
    response *= 0.5 / (np.sqrt(np.sum(response**2)) + 1e-12)
    response[0] = 1.0
    wet = np.convolve(audio, response)[: len(audio)]
    peak = np.max(np.abs(wet)) + 1e-12
    result: np.ndarray = (wet * (np.max(np.abs(audio)) / peak)).astype(np.float32)
    return result


def phone_call(audio: np.ndarray, rate: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """``audio`` as a phone call carries it: noise 25 dB down where the caller is, then an
    8 kHz band and mp3 at 32 kbit/s."""
    noisy = add_noise(audio, PHONE_SNR_DB, rng or np.random.default_rng(0))
    return mp3_roundtrip(noisy, rate, PHONE_BITRATE, PHONE_RATE)


def random_crop(
    audio: np.ndarray, rate: int, seconds: float, rng: np.random.Generator
) -> np.ndarray:
    """A ``seconds``-long stretch of ``audio`` at a random place (all of it if shorter)."""
    length = int(seconds * rate)
    if length >= len(audio):
        return audio
    start = int(rng.integers(0, len(audio) - length + 1))
    return audio[start : start + length]


def degrade_randomly(
    audio: np.ndarray,
    rate: int,
    rng: np.random.Generator,
    crop_seconds: tuple[float, float] = (1.5, 4.0),
) -> np.ndarray:
    """One user-like copy of a clean recording: a short crop, then by chance a room and
    noise where it was recorded, and a phone line or a codec on the way. (Level changes are
    left out: every upload is brought to a common loudness before anything reads it.)"""
    result = random_crop(audio, rate, float(rng.uniform(*crop_seconds)), rng)
    if rng.random() < 0.3:
        result = add_room(result, rate, float(rng.uniform(0.2, 0.6)), rng)
    if rng.random() < 0.5:
        result = add_noise(result, float(rng.uniform(15.0, 35.0)), rng)
    channel = rng.random()
    if channel < 0.25:
        result = mp3_roundtrip(result, rate, int(rng.choice([24_000, 32_000])), PHONE_RATE)
    elif channel < 0.4:
        result = mp3_roundtrip(result, rate, int(rng.choice([32_000, 64_000])), 16_000)
    return result
