"""Encode synthesized audio, chunk by chunk as it is produced, for streaming to clients.

Every format is streamable: WAV is sent with an "unknown length" header, AAC as an ADTS
stream, Opus in Ogg, and the containers are written without seeking back. Encoders accept
chunks of any size (codec frame sizes are handled inside) and hand back whatever bytes are
ready after each one.

Tags (``{"comment": ..., ...}``) go wherever the container has a place for them, in its
header, so they leave with the first bytes: a LIST/INFO chunk in WAV, ID3v2 (a TXXX frame
per custom key) in MP3 and in front of the ADTS stream, Vorbis comments in Ogg and FLAC.
Raw PCM has no place for them.
"""

from __future__ import annotations

import os
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import TracebackType
from typing import BinaryIO, cast

import av
import av.audio.stream
import numpy as np
import soxr

from voiceclone.audio.chunk import AudioChunk
from voiceclone.errors import UnsupportedFormat

RESAMPLE_QUALITY = "HQ"
PCM_SAMPLE_WIDTH = 2  # bytes: signed 16-bit little-endian
WAV_UNKNOWN_SIZE = 0xFFFFFFFF
WAV_MAX_SIZE = 0xFFFFFFFF
#: Ogg pages are closed after this much audio (µs), so bytes leave soon after each chunk.
OGG_PAGE_MICROSECONDS = 100_000
WAV_RIFF_HEADER = 12  # "RIFF", size, "WAVE"
WAV_FMT_END = 36  # RIFF header + fmt chunk (24 bytes)
#: WAV INFO fields for the tag keys we write.
WAV_INFO_FIELDS = {"comment": b"ICMT", "voiceclone_id": b"ISBJ", "software": b"ISFT"}

Tags = Mapping[str, str]


@dataclass(frozen=True)
class CodecSpec:
    """How a compressed format is produced with PyAV."""

    container: str
    codec: str
    bit_rate: int | None = None
    #: The codec only runs at this rate; input is resampled to it.
    fixed_rate: int | None = None
    container_options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputFormat:
    name: str
    content_type: str
    extension: str
    codec: CodecSpec | None = None  # None: raw PCM written by hand (wav, pcm)


FORMATS: Mapping[str, OutputFormat] = {
    spec.name: spec
    for spec in (
        OutputFormat("wav", "audio/wav", "wav"),
        OutputFormat("flac", "audio/flac", "flac", CodecSpec("flac", "flac")),
        OutputFormat(
            "mp3",
            "audio/mpeg",
            "mp3",
            # No Xing header: it is meant to be rewritten at the end, which a stream cannot
            # do, and one saying "0 frames" confuses some players. ID3v2 goes first, once.
            CodecSpec(
                "mp3",
                "libmp3lame",
                bit_rate=64_000,
                container_options={"write_xing": "0", "id3v2_version": "4"},
            ),
        ),
        OutputFormat(
            "opus",
            "audio/ogg; codecs=opus",
            "opus",
            CodecSpec(
                "ogg",
                "libopus",
                bit_rate=32_000,
                fixed_rate=48_000,
                container_options={"page_duration": str(OGG_PAGE_MICROSECONDS)},
            ),
        ),
        OutputFormat(
            "aac",
            "audio/aac",
            "aac",
            CodecSpec("adts", "aac", bit_rate=64_000, container_options={"write_id3v2": "1"}),
        ),
        OutputFormat("pcm", "audio/pcm", "pcm"),
    )
}


def output_format(fmt: str) -> OutputFormat:
    """The :class:`OutputFormat` named ``fmt`` (case-insensitive)."""
    try:
        return FORMATS[fmt.strip().lower()]
    except KeyError:
        supported = ", ".join(FORMATS)
        raise UnsupportedFormat(
            f"Unsupported audio format {fmt!r}. Supported formats: {supported}."
        ) from None


def content_type(fmt: str) -> str:
    """MIME type to send with audio in format ``fmt``."""
    return output_format(fmt).content_type


def extension(fmt: str) -> str:
    """File name extension (without the dot) for audio in format ``fmt``."""
    return output_format(fmt).extension


class StreamEncoder(ABC):
    """Encodes mono float samples pushed in pieces; returns encoded bytes as they are ready.

    Use :func:`open_encoder` to make one. Call :meth:`write` for each piece and :meth:`close`
    once at the end; concatenated, the returned bytes form one complete file.
    """

    def __init__(self, fmt: OutputFormat, sample_rate: int) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.format = fmt
        self.sample_rate = sample_rate
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, samples: np.ndarray) -> bytes:
        """Encode more samples; return the bytes ready now (possibly ``b""``)."""
        if self._closed:
            raise ValueError("write() on a closed encoder")
        return self._write(_as_mono_float32(samples))

    def close(self) -> bytes:
        """Flush everything still buffered and finish the stream; return the last bytes."""
        if self._closed:
            return b""
        self._closed = True
        return self._close()

    def abort(self) -> None:
        """Release the encoder without finishing the stream (e.g. the client went away)."""
        if not self._closed:
            self._closed = True
            self._abort()

    def __enter__(self) -> StreamEncoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abort()

    @abstractmethod
    def _write(self, samples: np.ndarray) -> bytes: ...

    @abstractmethod
    def _close(self) -> bytes: ...

    def _abort(self) -> None:  # noqa: B027 - nothing to release by default
        pass


class _PcmEncoder(StreamEncoder):
    """Raw s16le, optionally after a WAV header that leaves the length open."""

    def __init__(
        self, fmt: OutputFormat, sample_rate: int, *, wav_header: bool, tags: Tags | None = None
    ) -> None:
        super().__init__(fmt, sample_rate)
        self._pending_header = wav_header_bytes(sample_rate, None, tags) if wav_header else b""

    def _write(self, samples: np.ndarray) -> bytes:
        header, self._pending_header = self._pending_header, b""
        return header + pcm_s16le(samples)

    def _close(self) -> bytes:
        header, self._pending_header = self._pending_header, b""
        return header


class _ByteSink:
    """A write-only, non-seekable file for PyAV: muxers then never try to seek back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _PyAVEncoder(StreamEncoder):
    """A codec in a container, muxed by PyAV into memory and drained after every write."""

    def __init__(
        self, fmt: OutputFormat, spec: CodecSpec, sample_rate: int, tags: Tags | None = None
    ) -> None:
        super().__init__(fmt, sample_rate)
        self._codec_rate = spec.fixed_rate or _nearest_supported_rate(spec.codec, sample_rate)
        self._resampler = (
            soxr.ResampleStream(
                sample_rate, self._codec_rate, 1, dtype="float32", quality=RESAMPLE_QUALITY
            )
            if self._codec_rate != sample_rate
            else None
        )
        self._sink = _ByteSink()
        # flush_packets: hand each packet to the sink at once instead of buffering 32 KiB.
        options = {"flush_packets": "1", **spec.container_options}
        self._container = av.open(
            self._sink, mode="w", format=spec.container, container_options=options
        )
        try:
            self._stream = cast(
                av.audio.stream.AudioStream,
                self._container.add_stream(spec.codec, rate=self._codec_rate, layout="mono"),
            )
            if spec.bit_rate:
                self._stream.bit_rate = spec.bit_rate
            for key, value in (tags or {}).items():
                self._container.metadata[key] = value  # Ogg moves them into Vorbis comments
            self._container.start_encoding()  # writes the header now, so it can be sent early
        except Exception:
            self._container.close()
            raise
        self._time_base = Fraction(1, self._codec_rate)
        self._next_pts = 0

    def _write(self, samples: np.ndarray) -> bytes:
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        self._encode(samples)
        return self._sink.drain()

    def _close(self) -> bytes:
        if self._resampler is not None:
            self._encode(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
        self._mux(self._stream.encode(None))
        self._container.close()
        return self._sink.drain()

    def _abort(self) -> None:
        self._container.close()

    def _encode(self, samples: np.ndarray) -> None:
        if samples.size == 0:
            return
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self._codec_rate
        frame.time_base = self._time_base
        frame.pts = self._next_pts
        self._next_pts += samples.size
        self._mux(self._stream.encode(frame))

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            self._container.mux(packet)


def open_encoder(fmt: str, sample_rate: int, tags: Tags | None = None) -> StreamEncoder:
    """A :class:`StreamEncoder` for ``fmt`` taking mono samples at ``sample_rate``."""
    spec = output_format(fmt)
    if spec.codec is None:
        return _PcmEncoder(spec, sample_rate, wav_header=spec.name == "wav", tags=tags)
    return _PyAVEncoder(spec, spec.codec, sample_rate, tags)


def encode_chunks(
    chunks: Iterable[AudioChunk],
    fmt: str,
    *,
    sample_rate: int | None = None,
    tags: Tags | None = None,
) -> Iterator[bytes]:
    """Encode chunks as they arrive, yielding bytes after each one (for HTTP streaming).

    The format is checked at once (raising :class:`UnsupportedFormat`), before any chunk is
    asked for. The encoder opens at ``sample_rate`` if given — so the header can go out before
    the first chunk exists — otherwise at the first chunk's rate; every chunk must share it.
    """
    spec = output_format(fmt)
    return _encode_chunk_stream(chunks, spec.name, sample_rate, tags)


def _encode_chunk_stream(
    chunks: Iterable[AudioChunk], fmt: str, sample_rate: int | None, tags: Tags | None
) -> Iterator[bytes]:
    encoder = open_encoder(fmt, sample_rate, tags) if sample_rate else None
    try:
        if encoder is not None and (header := encoder.write(np.zeros(0, np.float32))):
            yield header
        for chunk in chunks:
            if encoder is None:
                encoder = open_encoder(fmt, chunk.sample_rate, tags)
            elif chunk.sample_rate != encoder.sample_rate:
                raise ValueError(
                    f"chunk {chunk.index} is at {chunk.sample_rate} Hz, "
                    f"the stream at {encoder.sample_rate} Hz"
                )
            if data := encoder.write(chunk.samples):
                yield data
        if encoder is not None and (tail := encoder.close()):
            yield tail
    finally:
        if encoder is not None:
            encoder.abort()


def encode_audio(
    samples: np.ndarray, sample_rate: int, fmt: str, tags: Tags | None = None
) -> bytes:
    """Encode a whole recording at once. WAV gets a header with the exact sizes."""
    spec = output_format(fmt)
    if spec.name == "wav":
        pcm = pcm_s16le(_as_mono_float32(samples))
        return wav_header_bytes(sample_rate, len(pcm), tags) + pcm
    with open_encoder(spec.name, sample_rate, tags) as encoder:
        return encoder.write(samples) + encoder.close()


def pcm_s16le(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as signed 16-bit little-endian bytes (clipped, rounded)."""
    scaled = np.round(np.clip(samples, -1.0, 1.0) * 32767.0)
    result: bytes = scaled.astype("<i2").tobytes()
    return result


def wav_info_chunk(tags: Tags | None) -> bytes:
    """A ``LIST``/``INFO`` chunk holding the tags that WAV has fields for (or nothing)."""
    fields = {"software": "voiceclone", **tags} if tags else {}
    body = b"INFO"
    for key, value in fields.items():
        field_id = WAV_INFO_FIELDS.get(key)
        if field_id is None:
            continue
        text = value.encode("utf-8") + b"\0"
        body += field_id + struct.pack("<I", len(text)) + text + b"\0" * (len(text) % 2)
    return b"LIST" + struct.pack("<I", len(body)) + body if len(body) > 4 else b""


def wav_header_bytes(sample_rate: int, data_size: int | None, tags: Tags | None = None) -> bytes:
    """The header of mono s16le WAV (44 bytes, plus the tags' INFO chunk if any);
    ``data_size=None`` marks the length unknown."""
    info = wav_info_chunk(tags)
    if data_size is None:
        riff_size = data_size_field = WAV_UNKNOWN_SIZE
    else:
        data_size_field = min(data_size, WAV_MAX_SIZE)
        riff_size = min(WAV_FMT_END + len(info) + data_size, WAV_MAX_SIZE)
    channels = 1
    block_align = channels * PCM_SAMPLE_WIDTH
    return b"".join(
        (
            b"RIFF",
            struct.pack("<I", riff_size),
            b"WAVE",
            b"fmt ",
            struct.pack(
                "<IHHIIHH",
                16,  # size of the fmt chunk
                1,  # PCM
                channels,
                sample_rate,
                sample_rate * block_align,  # byte rate
                block_align,
                8 * PCM_SAMPLE_WIDTH,
            ),
            info,
            b"data",
            struct.pack("<I", data_size_field),
        )
    )


def finish_wav(wav: BinaryIO) -> None:
    """Write the real sizes into a WAV made by the streaming encoder (length unknown), so
    players can seek. ``wav`` is open for reading and writing; it ends positioned at its end.
    """
    end = wav.seek(0, os.SEEK_END)
    offset = WAV_RIFF_HEADER  # the first chunk after "WAVE"
    while True:
        wav.seek(offset)
        chunk_id, size = struct.unpack("<4sI", wav.read(8))
        if chunk_id == b"data":
            break
        offset += 8 + size + size % 2
        if offset >= end:
            raise ValueError("not a WAV file with a data chunk")
    data_size = end - offset - 8
    wav.seek(4)
    wav.write(struct.pack("<I", min(end - 8, WAV_MAX_SIZE)))
    wav.seek(offset + 4)
    wav.write(struct.pack("<I", min(data_size, WAV_MAX_SIZE)))
    wav.seek(end)


def _as_mono_float32(samples: np.ndarray) -> np.ndarray:
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {audio.shape}")
    return np.ascontiguousarray(np.clip(audio, -1.0, 1.0))


def _nearest_supported_rate(codec: str, sample_rate: int) -> int:
    """``sample_rate`` if the encoder takes it, else the closest rate it does take."""
    rates = av.Codec(codec, "w").audio_rates
    if not rates or sample_rate in rates:
        return sample_rate
    return min(rates, key=lambda rate: (abs(rate - sample_rate), -rate))
