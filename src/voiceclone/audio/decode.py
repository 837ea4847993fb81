"""Decode an uploaded recording of any common format into mono float32 at a chosen rate.

Decoding runs frame by frame (PyAV), so a long file is never held in memory as compressed
*and* decoded data at once, and a file that is too long is rejected as soon as the limit is
passed instead of after decoding all of it. Resampling uses soxr's streaming resampler.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import av
import av.error
import numpy as np
import soxr

from voiceclone.audio.reference import check_finite, describe_duration
from voiceclone.errors import InvalidAudio
from voiceclone.settings import get_settings

AudioSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

#: Decoding may run this far past ``max_reference_seconds`` so that a slightly long recording
#: reaches the reference checks, which can say by how much it is too long.
DECODE_SLACK_SECONDS = 30.0

#: The only FFmpeg demuxers we let near uploaded bytes. Besides giving a clear "not an audio
#: file" for images, text and the like, this keeps out demuxers that open other files or URLs
#: named inside the input (HLS, concat, ...). "mov" covers mp4/m4a/3gp, "matroska" webm.
ACCEPTED_CONTAINERS = (
    "wav",
    "w64",
    "mp3",
    "flac",
    "ogg",
    "mov",
    "matroska",
    "aac",
    "aiff",
    "caf",
    "asf",
    "amr",
)

RESAMPLE_QUALITY = "HQ"

NOT_AUDIO_MESSAGE = (
    "This is not an audio file (or not one we can read). Upload a recording in WAV, MP3, "
    "FLAC, Ogg/Opus, M4A/AAC or WebM format."
)
TRUNCATED_MESSAGE = "The recording is truncated or corrupt and could not be decoded."
NO_AUDIO_STREAM_MESSAGE = "The file contains no audio stream (it may hold only video)."
EMPTY_MESSAGE = "The file is empty (0 bytes): it contains no audio stream."


def decode_audio(
    source: AudioSource,
    target_rate: int,
    *,
    max_seconds: float | None = None,
    keep_start: bool = False,
) -> np.ndarray:
    """Decode ``source`` to mono float32 samples at ``target_rate``.

    ``source`` is a path, the file's bytes, or a readable binary file object. Decoding stops
    with :class:`InvalidAudio` at the first NaN or infinite sample, and once more than
    ``max_seconds`` of audio has been decoded
    (default: ``max_reference_seconds`` plus :data:`DECODE_SLACK_SECONDS`) — or, with
    ``keep_start``, returns the first ``max_seconds`` instead. A file cut short yields
    whatever could be decoded before the cut.
    """
    if target_rate <= 0:
        raise ValueError(f"target_rate must be positive, got {target_rate}")
    if max_seconds is None:
        max_seconds = get_settings().max_reference_seconds + DECODE_SLACK_SECONDS

    with _open_container(_as_av_input(source)) as container:
        if not container.streams.audio:
            raise InvalidAudio(NO_AUDIO_STREAM_MESSAGE)
        stream = container.streams.audio[0]
        resampler = _MonoResampler(target_rate)
        decoded_seconds = 0.0
        for samples, rate in _decoded_mono_frames(container, stream):
            check_finite(samples)  # NaN/Inf would poison resampling and every later step
            decoded_seconds += len(samples) / rate
            if decoded_seconds > max_seconds:
                if not keep_start:
                    raise InvalidAudio(_too_long_message(max_seconds))
                resampler.push(samples, rate)
                break
            resampler.push(samples, rate)
        audio = resampler.finish()

    if audio.size == 0:
        raise InvalidAudio(TRUNCATED_MESSAGE)
    return audio


def _as_av_input(source: AudioSource) -> str | BinaryIO:
    """Turn ``source`` into something ``av.open`` reads, rejecting empty input up front."""
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise InvalidAudio(EMPTY_MESSAGE)
        return io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise InvalidAudio(f"Cannot read {path}: no such file.")
        if path.stat().st_size == 0:
            raise InvalidAudio(EMPTY_MESSAGE)
        return str(path)
    if _remaining_bytes(source) == 0:
        raise InvalidAudio(EMPTY_MESSAGE)
    return source


def _remaining_bytes(stream: BinaryIO) -> int | None:
    """Bytes left to read in a seekable stream, or None when that cannot be known cheaply."""
    try:
        if not stream.seekable():
            return None
        position = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(position)
    except (AttributeError, OSError):
        return None
    return end - position


def _open_container(av_input: str | BinaryIO) -> av.container.InputContainer:
    try:
        return av.open(
            av_input,
            mode="r",
            container_options={"format_whitelist": ",".join(ACCEPTED_CONTAINERS)},
            metadata_errors="ignore",
        )
    except av.error.EOFError as exc:  # the format was recognised, then the data ran out
        raise InvalidAudio(TRUNCATED_MESSAGE) from exc
    except av.error.FFmpegError as exc:
        raise InvalidAudio(NOT_AUDIO_MESSAGE) from exc


def _decoded_mono_frames(
    container: av.container.InputContainer, stream: av.AudioStream
) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (mono float32 samples, sample rate) per decoded frame.

    Packets the decoder rejects are skipped, as players do; a container that breaks off
    mid-way ends the stream with what was decoded so far.
    """
    to_float = _FloatPlanarConverter()
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError:  # the container is cut or damaged from here on
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError:  # one damaged packet: skip it
            continue
        for frame in frames:
            for planes in to_float(frame):
                yield planes.mean(axis=0, dtype=np.float32), frame.sample_rate


class _FloatPlanarConverter:
    """Convert decoded frames of any sample format to float32 arrays shaped (channels, n).

    PyAV's resampler is fixed to the first frame's format, layout and rate, so a fresh one is
    made whenever a stream changes them mid-way (a format-only conversion holds no samples).
    """

    def __init__(self) -> None:
        self._resampler: av.AudioResampler | None = None
        self._input_key: tuple[str, str, int] | None = None

    def __call__(self, frame: av.AudioFrame) -> list[np.ndarray]:
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        if self._resampler is None or key != self._input_key:
            self._resampler = av.AudioResampler(format="fltp")
            self._input_key = key
        return [converted.to_ndarray() for converted in self._resampler.resample(frame)]


class _MonoResampler:
    """Stream mono samples through soxr to ``target_rate``, following input rate changes."""

    def __init__(self, target_rate: int) -> None:
        self._target_rate = target_rate
        self._input_rate: int | None = None
        self._stream: soxr.ResampleStream | None = None
        self._output: list[np.ndarray] = []

    def push(self, samples: np.ndarray, rate: int) -> None:
        if rate != self._input_rate:
            self._flush()
            self._input_rate = rate
            if rate != self._target_rate:
                self._stream = soxr.ResampleStream(
                    rate, self._target_rate, 1, dtype="float32", quality=RESAMPLE_QUALITY
                )
        if self._stream is None:
            self._output.append(samples)
        else:
            self._output.append(self._stream.resample_chunk(samples))

    def finish(self) -> np.ndarray:
        self._flush()
        if not self._output:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._output).astype(np.float32, copy=False)

    def _flush(self) -> None:
        if self._stream is not None:
            self._output.append(
                self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            )
            self._stream = None


def _too_long_message(max_seconds: float) -> str:
    limit = min(max_seconds, get_settings().max_reference_seconds)
    return (
        f"The recording is longer than {describe_duration(max_seconds)}, too long to use. "
        f"Trim it to at most {describe_duration(limit)}."
    )
