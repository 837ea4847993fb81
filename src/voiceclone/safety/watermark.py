"""An inaudible, machine-readable mark on every sound the service makes, and its detector.

The scheme is keyed spread spectrum on STFT magnitudes (in the manner of Kirovski and
Malvar's audio watermarking): a keyed pseudo-random pattern of ±1 chips, each a tile of
:data:`TILE_BINS` frequency bins by :data:`TILE_FRAMES` frames, raises or lowers the
magnitude of the speech by :data:`~voiceclone.settings.Settings.watermark_strength_db`
in the 400–3200 Hz band (which survives telephone lines, resampling and speech codecs).
The pattern repeats every :data:`PERIOD_FRAMES` frames (about a second), so any excerpt
of a couple of seconds holds whole periods. Part of each period's tiles are a fixed sync
pattern; the rest carry the payload bits (each bit flips the sign of its tiles' chips).

Embedding is linear (a fixed gain per time-frequency cell) and runs as a streaming
weighted overlap-add: it follows the audio chunk by chunk and holds back only the last
16 ms until more audio (or the end) arrives.

Detection resamples anything to 8 kHz, takes log magnitudes in the band, removes the
speech's own spectral envelope and slow changes, folds the frames onto one period and
correlates with the sync pattern at every frame offset (and four sub-frame offsets). The
score is a z-value under "no watermark"; the confidence is one minus its Bonferroni
p-value over all the offsets tried.

No library fits here: the maintained neural watermarkers (AudioSeal, WavMark, Perth)
need torch and torchaudio at run time; this module is ours.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import soxr

from voiceclone.audio.chunk import AudioChunk

FRAME_SECONDS = 0.032
BAND_HZ = (400.0, 3200.0)
TILE_BINS = 2
TILE_FRAMES = 2
PERIOD_FRAMES = 64
SYNC_SHARE = 0.5
DETECT_RATE = 8_000
SUB_OFFSETS = 4
PAYLOAD_BITS = 16
CHECK_BITS = 8
CODE_BITS = PAYLOAD_BITS + CHECK_BITS
#: Frames this far below the loudest one carry too little of the mark to count.
ACTIVE_FRAME_DB = 45.0
LEVEL_RANGE_DB = 70.0
ENVELOPE_BINS = 13
ENVELOPE_FRAMES = 9
_EPSILON = 1e-9


@dataclass(frozen=True)
class Layout:
    """The keyed pattern: chip signs and the role of each tile (−1: sync, else a bit)."""

    chips: np.ndarray  # (freq tiles, time tiles) of ±1
    roles: np.ndarray  # (freq tiles, time tiles): -1 sync, 0..CODE_BITS-1 a code bit

    @property
    def freq_tiles(self) -> int:
        result: int = self.chips.shape[0]
        return result


def band_bins(frame_length: int, sample_rate: int) -> tuple[int, int]:
    """First bin and bin count of the marked band, in whole tiles."""
    spacing = sample_rate / frame_length
    first = math.ceil(BAND_HZ[0] / spacing)
    count = (math.floor(BAND_HZ[1] / spacing) - first) // TILE_BINS * TILE_BINS
    return first, count


@lru_cache(maxsize=8)
def layout(key: str) -> Layout:
    """The pattern derived from ``key`` (the same on every machine)."""
    seed = int.from_bytes(hashlib.sha256(f"voiceclone-watermark:{key}".encode()).digest()[:8])
    rng = np.random.default_rng(seed)
    _, bins = band_bins(round(FRAME_SECONDS * DETECT_RATE), DETECT_RATE)
    shape = (bins // TILE_BINS, PERIOD_FRAMES // TILE_FRAMES)
    chips = rng.choice(np.array([-1.0, 1.0]), size=shape)
    tiles = shape[0] * shape[1]
    sync_tiles = round(tiles * SYNC_SHARE)
    roles = np.concatenate([np.full(sync_tiles, -1), np.arange(tiles - sync_tiles) % CODE_BITS])
    return Layout(chips=chips, roles=rng.permutation(roles).reshape(shape))


# -- payload ---------------------------------------------------------------------------------


def crc8(value: int, bits: int) -> int:
    """CRC-8 (polynomial 0x07) of the low ``bits`` bits of ``value``."""
    crc = 0
    for index in reversed(range(bits)):
        top = ((crc >> 7) & 1) ^ ((value >> index) & 1)
        crc = ((crc << 1) & 0xFF) ^ (0x07 if top else 0)
    return crc


def payload_for(server_id: int, subject: str) -> int:
    """16 bits: the server's id (8 bits) and a short hash of the job or voice (8 bits)."""
    digest = hashlib.sha256(subject.encode()).digest()[0]
    return ((server_id & 0xFF) << 8) | digest


def code_bits(payload: int) -> np.ndarray:
    """The payload and its CRC as ±1 per code bit, most significant first."""
    word = (payload << CHECK_BITS) | crc8(payload, PAYLOAD_BITS)
    return np.array([1.0 if (word >> (CODE_BITS - 1 - i)) & 1 else -1.0 for i in range(CODE_BITS)])


def signs(key: str, payload: int) -> np.ndarray:
    """±1 per tile of one period: sync chips as they are, payload chips times their bit."""
    pattern = layout(key)
    bits = np.concatenate([[1.0], code_bits(payload)])  # index 0: sync
    result: np.ndarray = pattern.chips * bits[pattern.roles + 1]
    return result


# -- embedding -------------------------------------------------------------------------------


def _frame_length(sample_rate: int) -> int:
    length = round(FRAME_SECONDS * sample_rate)
    return length + length % 2


def _sqrt_hann(length: int) -> np.ndarray:
    return np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)).astype(np.float32)


class Embedder:
    """Marks a stream of samples at ``sample_rate``; feed with :meth:`push`, end with
    :meth:`finish`. The output is the input with the mark, sample for sample, delayed by
    at most one hop (16 ms) while it waits for the frames that overlap it."""

    def __init__(self, sample_rate: int, key: str, payload: int, strength_db: float) -> None:
        self.sample_rate = sample_rate
        self._frame = _frame_length(sample_rate)
        self._hop = self._frame // 2
        self._window = _sqrt_hann(self._frame)
        first, count = band_bins(self._frame, sample_rate)
        tile_signs = signs(key, payload)  # (freq tiles, time tiles)
        per_bin = np.repeat(tile_signs, TILE_BINS, axis=0)[:count]  # (bins, time tiles)
        gains = np.ones((self._frame // 2 + 1, PERIOD_FRAMES), dtype=np.float32)
        gains[first : first + count] = 10.0 ** (
            strength_db * np.repeat(per_bin, TILE_FRAMES, axis=1) / 20.0
        )
        self._gains = gains
        # A virtual hop of silence before the start makes the first samples reconstruct.
        self._input = np.zeros(self._hop, dtype=np.float32)
        self._output = np.zeros(self._frame, dtype=np.float32)
        self._frame_index = 0
        self._received = 0
        self._emitted = -self._hop

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Mark more samples; returns the marked samples that are final now."""
        self._input = np.concatenate([self._input, np.asarray(samples, dtype=np.float32)])
        self._received += len(samples)
        return self._drain()

    def finish(self) -> np.ndarray:
        """The rest of the marked stream (the held-back tail)."""
        missing = self._received - self._emitted
        if missing <= 0:
            return np.zeros(0, dtype=np.float32)
        self._input = np.concatenate([self._input, np.zeros(self._frame, dtype=np.float32)])
        tail = self._drain()
        return tail[:missing]

    def _drain(self) -> np.ndarray:
        frames = (len(self._input) - self._frame) // self._hop + 1
        if frames <= 0:
            return np.zeros(0, dtype=np.float32)
        starts = np.arange(frames) * self._hop
        blocks = self._input[starts[:, None] + np.arange(self._frame)] * self._window
        columns = (self._frame_index + np.arange(frames)) % PERIOD_FRAMES
        spectra = np.fft.rfft(blocks, axis=1) * self._gains[:, columns].T
        marked = np.fft.irfft(spectra, n=self._frame, axis=1).astype(np.float32) * self._window
        out = np.zeros((frames + 1) * self._hop, dtype=np.float32)
        out[: self._frame] += self._output
        for index, block in enumerate(marked):
            out[index * self._hop : index * self._hop + self._frame] += block
        ready, self._output = out[: frames * self._hop], out[frames * self._hop :].copy()
        self._output = np.concatenate([self._output, np.zeros(self._hop, dtype=np.float32)])
        self._input = self._input[frames * self._hop :]
        self._frame_index += frames
        self._emitted += len(ready)
        skip = max(0, -(self._emitted - len(ready)))  # the virtual lead-in hop
        return ready[skip:]


def watermark_chunks(
    chunks: Iterable[AudioChunk], key: str, payload: int, strength_db: float
) -> Iterator[AudioChunk]:
    """The same chunks, marked; a last chunk (no text) carries the held-back tail. Word
    timings move with the audio held back, so they stay on the same timeline."""
    embedder: Embedder | None = None
    index = 0
    taken = given = 0
    for chunk in chunks:
        if embedder is None:
            embedder = Embedder(chunk.sample_rate, key, payload, strength_db)
        marked = embedder.push(chunk.samples)
        yield chunk.with_samples(marked, words_shift=(taken - given) / chunk.sample_rate)
        taken += len(chunk.samples)
        given += len(marked)
        index = chunk.index + 1
    if embedder is not None:
        tail = embedder.finish()
        if len(tail):
            yield AudioChunk(tail, embedder.sample_rate, "", index)


def mark(
    samples: np.ndarray, sample_rate: int, key: str, payload: int, strength: float
) -> np.ndarray:
    """A whole recording, marked (the same result as streaming it)."""
    embedder = Embedder(sample_rate, key, payload, strength)
    return np.concatenate([embedder.push(samples), embedder.finish()])


# -- detection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    detected: bool
    confidence: float
    score: float
    payload: int | None

    @property
    def server_id(self) -> int | None:
        return None if self.payload is None else self.payload >> 8


def _moving_average(values: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Centred moving average along ``axis`` (zeros beyond the edges, like "same")."""
    moved = np.moveaxis(values, axis, -1)
    padded = np.pad(moved, [(0, 0)] * (moved.ndim - 1) + [(width // 2 + 1, width // 2)])
    sums = np.cumsum(padded, axis=-1)
    return np.moveaxis((sums[..., width:] - sums[..., :-width]) / width, -1, axis)


def _folded_residuals(audio: np.ndarray, offset: int) -> np.ndarray:
    """Band log magnitudes, envelope removed, summed per frequency tile and folded onto
    one period: (freq tiles, PERIOD_FRAMES)."""
    frame = _frame_length(DETECT_RATE)
    hop = frame // 2
    first, count = band_bins(frame, DETECT_RATE)
    signal = audio[offset:]
    frames = (len(signal) - frame) // hop + 1
    folded = np.zeros((count // TILE_BINS, PERIOD_FRAMES))
    if frames < TILE_FRAMES:
        return folded
    starts = np.arange(frames) * hop
    window = np.hanning(frame + 2)[1:-1]
    spectra = np.abs(np.fft.rfft(signal[starts[:, None] + np.arange(frame)] * window, axis=1))
    band = spectra[:, first : first + count].T  # (bins, frames)
    power = band**2
    energy = 10 * np.log10(np.sum(power, axis=0) + _EPSILON)
    active = energy > energy.max() - ACTIVE_FRAME_DB
    # Digital silence (the engine's pauses) would be -90 dB cells whose edges swamp the
    # envelope removal: floor every cell at the quietest level a marked frame can have.
    levels = np.maximum(10 * np.log10(power + _EPSILON), energy.max() - LEVEL_RANGE_DB)
    residual = levels - _moving_average(levels, ENVELOPE_BINS, axis=0)
    residual = residual - _moving_average(residual, ENVELOPE_FRAMES, axis=1)
    residual[:, ~active] = 0.0
    tiles = residual.reshape(count // TILE_BINS, TILE_BINS, frames).sum(axis=1)
    for column in range(PERIOD_FRAMES):
        folded[:, column] = tiles[:, column::PERIOD_FRAMES].sum(axis=1)
    return folded


def _tile_sums(folded: np.ndarray, shift: int) -> np.ndarray:
    """Per tile of the pattern, the sum of the folded frames it covers if the excerpt's
    frame 0 is the pattern's frame ``shift``: (freq tiles, time tiles)."""
    aligned = np.roll(folded, shift, axis=1)
    result: np.ndarray = aligned.reshape(folded.shape[0], -1, TILE_FRAMES).sum(axis=2)
    return result


def detect(samples: np.ndarray, sample_rate: int, key: str, threshold: float) -> Detection:
    """Whether ``samples`` carry the mark of ``key``, how surely, and its payload."""
    audio = np.asarray(samples, dtype=np.float32)
    if sample_rate != DETECT_RATE:
        audio = soxr.resample(audio, sample_rate, DETECT_RATE).astype(np.float32)
    pattern = layout(key)
    sync = np.where(pattern.roles < 0, pattern.chips, 0.0)
    best: tuple[float, np.ndarray | None] = (-np.inf, None)
    hop = _frame_length(DETECT_RATE) // 2
    for sub in range(SUB_OFFSETS):
        folded = _folded_residuals(audio, sub * hop // SUB_OFFSETS)
        for shift in range(PERIOD_FRAMES):
            sums = _tile_sums(folded, shift)
            spread = math.sqrt(float(np.sum((sums * (sync != 0)) ** 2)))
            if spread == 0:
                continue
            score = float(np.sum(sums * sync)) / spread
            if score > best[0]:
                best = (score, sums)
    score, best_sums = best
    if best_sums is None:
        return Detection(False, 0.0, 0.0, None)
    sums = best_sums
    tests = SUB_OFFSETS * PERIOD_FRAMES
    p_value = min(1.0, tests * 0.5 * math.erfc(score / math.sqrt(2)))
    detected = score >= threshold
    payload = _decode_payload(sums, pattern) if detected else None
    return Detection(detected, round(1.0 - p_value, 6), round(score, 2), payload)


def _decode_payload(sums: np.ndarray, pattern: Layout) -> int | None:
    """The payload whose CRC checks, trying the two least sure bits both ways."""
    soft = np.array(
        [float(np.sum((sums * pattern.chips)[pattern.roles == bit])) for bit in range(CODE_BITS)]
    )
    hard = soft > 0
    doubtful = np.argsort(np.abs(soft))[:2]
    for flips in ((), (doubtful[0],), (doubtful[1],), tuple(doubtful)):
        bits = hard.copy()
        for index in flips:
            bits[index] = not bits[index]
        word = int("".join("1" if bit else "0" for bit in bits), 2)
        payload, check = word >> CHECK_BITS, word & ((1 << CHECK_BITS) - 1)
        if crc8(payload, PAYLOAD_BITS) == check:
            return payload
    return None
