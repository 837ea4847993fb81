"""Audio in and out: decoding uploads, checking references, encoding streamed output.

Signals are synthesized here, except where the speech detector must hear speech: that is a
person reading (:func:`fakes.real_speech`, from the installed reference recordings). Input
files are written with PyAV into a temporary folder.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from support.fakes import real_speech, silence, with_pauses

from voiceclone.audio import (
    FORMATS,
    AudioChunk,
    content_type,
    decode_audio,
    encode_audio,
    encode_chunks,
    extension,
    open_encoder,
    pool_references,
    prepare_reference,
    speech_seconds,
)
from voiceclone.errors import InvalidAudio, UnsupportedFormat

RATE = 16_000
TTS_RATE = 24_000
TONE_HZ = 200.0


# --- signals -----------------------------------------------------------------------------


def speech_like(seconds: float, rate: int = RATE, level: float = 0.3) -> np.ndarray:
    """A voiced, syllable-modulated harmonic tone: steady enough to count as speech all along."""
    t = np.arange(round(seconds * rate)) / rate
    pitch = TONE_HZ * (1.0 + 0.03 * np.sin(2 * np.pi * 3.0 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = 0.35 + 0.65 * np.abs(np.sin(np.pi * 4.0 * t))
    signal = voice * syllables
    return (level * signal / np.max(np.abs(signal))).astype(np.float32)


def rms_dbfs(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20))


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


# --- writing input files with PyAV ---------------------------------------------------------

# name: (container, codec, codec rate)
INPUT_FORMATS = {
    "wav": ("wav", "pcm_s16le", RATE),
    "mp3": ("mp3", "libmp3lame", RATE),
    "flac": ("flac", "flac", RATE),
    "ogg": ("ogg", "libopus", 48_000),
    "m4a": ("ipod", "aac", RATE),
    "webm": ("webm", "libopus", 48_000),
}


def write_audio_file(
    path: Path, samples: np.ndarray, rate: int, container: str, codec: str, codec_rate: int
) -> Path:
    """Write mono ``samples`` with PyAV (resampled to ``codec_rate`` by the encoder)."""
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=codec_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        frame.time_base = Fraction(1, rate)
        frame.pts = 0
        resampler = av.AudioResampler(rate=codec_rate, layout="mono")
        for piece in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(piece):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path


def write_input(tmp_path: Path, name: str, samples: np.ndarray, rate: int = RATE) -> Path:
    container, codec, codec_rate = INPUT_FORMATS[name]
    return write_audio_file(tmp_path / f"input.{name}", samples, rate, container, codec, codec_rate)


def decode_with_pyav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode encoder output independently of the code under test."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout="mono")
        pieces = [
            converted.to_ndarray()[0]
            for frame in container.decode(stream)
            for converted in resampler.resample(frame)
        ]
        return np.concatenate(pieces), stream.rate


def decode_output(data: bytes, fmt: str, rate: int) -> tuple[np.ndarray, int]:
    if fmt == "pcm":
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0, rate
    return decode_with_pyav(data)


def tiny_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * 8 for _ in range(8)))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    return speech_like(2.0)


# --- decoding ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(INPUT_FORMATS))
def test_decode_round_trip(tmp_path: Path, name: str, voice: np.ndarray) -> None:
    path = write_input(tmp_path, name, voice)

    decoded = decode_audio(path, RATE)

    assert decoded.dtype == np.float32
    assert decoded.ndim == 1
    assert len(decoded) / RATE == pytest.approx(len(voice) / RATE, abs=0.1)
    assert rms_dbfs(decoded) == pytest.approx(rms_dbfs(voice), abs=1.5)
    assert dominant_hz(decoded, RATE) == pytest.approx(dominant_hz(voice, RATE), abs=10)


def test_decode_resamples_to_target_rate(tmp_path: Path) -> None:
    tone = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(44_100) / 44_100)).astype(np.float32)
    path = write_audio_file(tmp_path / "a.wav", tone, 44_100, "wav", "pcm_s16le", 44_100)

    decoded = decode_audio(path, 24_000)

    assert len(decoded) == pytest.approx(24_000, abs=10)
    assert dominant_hz(decoded, 24_000) == pytest.approx(1000, abs=2)


def test_decode_downmixes_stereo(tmp_path: Path, voice: np.ndarray) -> None:
    left_only = np.stack([voice, np.zeros_like(voice)])
    path = tmp_path / "stereo.wav"
    with av.open(str(path), "w", format="wav") as output:
        stream = output.add_stream("pcm_s16le", rate=RATE, layout="stereo")
        frame = av.AudioFrame.from_ndarray(left_only, format="fltp", layout="stereo")
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)

    decoded = decode_audio(path, RATE)

    assert decoded.shape == voice.shape
    assert np.allclose(decoded, voice / 2, atol=1e-3)


def test_decode_accepts_path_bytes_and_file_object(tmp_path: Path, voice: np.ndarray) -> None:
    path = write_input(tmp_path, "flac", voice)
    data = path.read_bytes()

    from_path = decode_audio(str(path), RATE)
    from_bytes = decode_audio(data, RATE)
    with path.open("rb") as handle:
        from_file = decode_audio(handle, RATE)

    assert np.array_equal(from_path, from_bytes)
    assert np.array_equal(from_path, from_file)


@pytest.mark.parametrize("name", ["wav", "mp3"])
def test_decode_keeps_what_is_there_when_cut_in_half(
    tmp_path: Path, name: str, voice: np.ndarray
) -> None:
    data = write_input(tmp_path, name, voice).read_bytes()

    decoded = decode_audio(data[: len(data) // 2], RATE)

    assert len(decoded) / RATE == pytest.approx(len(voice) / RATE / 2, abs=0.15)


def test_decode_skips_damaged_stretch_in_the_middle(tmp_path: Path, voice: np.ndarray) -> None:
    data = bytearray(write_input(tmp_path, "mp3", voice).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 300] = np.random.default_rng(3).bytes(300)

    decoded = decode_audio(bytes(data), RATE)

    assert len(decoded) / RATE > 0.75 * len(voice) / RATE
    assert rms_dbfs(decoded) == pytest.approx(rms_dbfs(voice), abs=2.0)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"Dear diary,\nthis is not a recording.\n" * 20, id="text"),
        pytest.param(np.random.default_rng(1).bytes(30_000), id="random-bytes"),
        pytest.param(tiny_png(), id="png"),
    ],
)
def test_decode_rejects_non_audio(data: bytes) -> None:
    with pytest.raises(InvalidAudio, match="not an audio file"):
        decode_audio(data, RATE)


def test_decode_rejects_text_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 100)

    with pytest.raises(InvalidAudio, match="not an audio file"):
        decode_audio(path, RATE)


def test_decode_rejects_header_only_wav(tmp_path: Path, voice: np.ndarray) -> None:
    data = write_input(tmp_path, "wav", voice).read_bytes()
    header_only = data[: data.index(b"data") + 8]

    with pytest.raises(InvalidAudio, match="truncated or corrupt"):
        decode_audio(header_only, RATE)


def test_decode_rejects_empty_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")

    for source in (b"", empty, io.BytesIO(b"")):
        with pytest.raises(InvalidAudio, match="empty"):
            decode_audio(source, RATE)


def test_decode_rejects_video_without_audio(tmp_path: Path) -> None:
    path = tmp_path / "video.mkv"
    with av.open(str(path), "w", format="matroska") as output:
        stream = output.add_stream("ffv1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)

    with pytest.raises(InvalidAudio, match="no audio stream"):
        decode_audio(path, RATE)


class CountingReader(io.RawIOBase):
    """A file object that records how many bytes were read from it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        return self._data.tell()

    def readinto(self, buffer: bytearray) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


def test_decode_stops_early_on_overlong_input(tmp_path: Path) -> None:
    long_tone = speech_like(60.0, 8_000)
    data = write_audio_file(
        tmp_path / "long.wav", long_tone, 8_000, "wav", "pcm_s16le", 8_000
    ).read_bytes()
    reader = CountingReader(data)

    with pytest.raises(InvalidAudio, match="longer than 5 seconds"):
        decode_audio(reader, 8_000, max_seconds=5.0)
    assert reader.bytes_read < len(data) / 2


def test_decode_default_limit_leaves_room_past_five_minutes(tmp_path: Path) -> None:
    rate = 8_000
    ten_seconds = speech_like(10.0, rate)
    slightly_long = write_audio_file(
        tmp_path / "310s.wav", np.tile(ten_seconds, 31), rate, "wav", "pcm_s16le", rate
    )
    far_too_long = write_audio_file(
        tmp_path / "400s.wav", np.tile(ten_seconds, 40), rate, "wav", "pcm_s16le", rate
    )

    # a little over the limit decodes, so the reference check can say how long it is
    with pytest.raises(InvalidAudio, match="5 minutes 10 seconds long"):
        prepare_reference(decode_audio(slightly_long, rate), rate)
    with pytest.raises(InvalidAudio, match="too long"):
        decode_audio(far_too_long, rate)


# --- reference checks --------------------------------------------------------------------


def test_reference_rejects_digital_silence() -> None:
    with pytest.raises(InvalidAudio, match="no speech — it is silent"):
        prepare_reference(silence(6.0), RATE)


def test_reference_rejects_near_silence() -> None:
    hiss = np.random.default_rng(2).normal(0, 10 ** (-70 / 20), 6 * RATE).astype(np.float32)

    with pytest.raises(InvalidAudio, match="silent"):
        prepare_reference(hiss, RATE)


def test_reference_rejects_heavy_clipping() -> None:
    overdriven = np.clip(real_speech(6.0) * 30.0, -1.0, 1.0)

    with pytest.raises(InvalidAudio, match=r"clipped.*lower input gain"):
        prepare_reference(overdriven, RATE)


def test_reference_rejects_loud_white_noise_as_no_speech() -> None:
    noise = np.random.default_rng(3).normal(0, 0.1, 5 * RATE).astype(np.float32)

    with pytest.raises(InvalidAudio, match="No speech found"):
        prepare_reference(noise, RATE)


def music(seconds: float, rate: int = RATE) -> np.ndarray:
    """A plucked melody with chords: harmonic, rhythmic, loud, and no voice in it."""
    t = np.arange(round(seconds * rate)) / rate
    notes = [261.6, 329.6, 392.0, 523.3, 440.0, 349.2, 293.7, 392.0]
    out = np.zeros_like(t)
    beat = 0.25
    for index, start in enumerate(np.arange(0, seconds, beat)):
        root = notes[index % len(notes)]
        local = t - start
        envelope = np.where(local >= 0, np.exp(-local * 6.0), 0.0)
        for ratio in (1.0, 1.25, 1.5):
            out += envelope * np.sin(2 * np.pi * root * ratio * local) * (local >= 0)
    return (0.3 * out / np.max(np.abs(out))).astype(np.float32)


def test_reference_rejects_music_as_no_speech() -> None:
    with pytest.raises(InvalidAudio, match="No speech found"):
        prepare_reference(music(6.0), RATE)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_reference_rejects_non_finite_samples(bad: float) -> None:
    recording = real_speech(4.0)
    recording[RATE] = bad

    with pytest.raises(InvalidAudio, match="NaN or infinite"):
        prepare_reference(recording, RATE)


def test_decode_rejects_a_float_wav_with_nan_at_once(tmp_path: Path) -> None:
    recording = real_speech(4.0)
    recording[100] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, recording, RATE, subtype="FLOAT")

    with pytest.raises(InvalidAudio, match="NaN or infinite"):
        decode_audio(path, RATE)


def test_reference_rejects_too_little_speech() -> None:
    short = with_pauses(lead=2.5, speech=1.2, tail=2.5)

    with pytest.raises(InvalidAudio, match="at least 2 seconds") as caught:
        prepare_reference(short, RATE)
    found = float(re.search(r"(\d+(?:\.\d+)?) seconds of speech", str(caught.value)).group(1))
    assert found == pytest.approx(1.2, abs=0.25)


def test_reference_accepts_enough_speech() -> None:
    prepared = prepare_reference(with_pauses(lead=2.5, speech=4.0, tail=2.5), RATE)

    assert speech_seconds(prepared, RATE) == pytest.approx(4.0, abs=0.3)


def test_reference_accepts_a_real_clip_of_two_point_eight_seconds() -> None:
    clip = real_speech(2.8, speaker="en_david")

    prepared = prepare_reference(clip, RATE)

    assert len(prepared) / RATE == pytest.approx(2.8, abs=0.15)


def test_reference_rejects_over_five_minutes() -> None:
    rate = 8_000
    too_long = np.tile(speech_like(10.0, rate), 31)  # 310 s

    with pytest.raises(InvalidAudio, match="longer than 5 minutes"):
        prepare_reference(too_long, rate)


def test_reference_trims_leading_and_trailing_silence() -> None:
    prepared = prepare_reference(with_pauses(lead=1.5, speech=4.0, tail=2.0), RATE)

    # the speech, the detector's padding and the trim margin: a few tenths of a second more
    assert 4.0 <= len(prepared) / RATE <= 4.6
    assert np.abs(prepared[: RATE // 20]).max() < 1e-6
    assert np.abs(prepared[-RATE // 20 :]).max() < 1e-6


@pytest.mark.parametrize("level", [0.01, 0.05, 0.6])
def test_reference_normalises_speech_level(level: float) -> None:
    speech = real_speech(5.0)
    speech *= level / np.abs(speech).max()
    recording = np.concatenate([silence(1.0), speech, silence(1.0)])

    prepared = prepare_reference(recording, RATE)

    margin = round(0.25 * RATE)
    assert rms_dbfs(prepared[margin:-margin]) == pytest.approx(-20.0, abs=1.5)


def test_reference_peaks_stay_below_minus_one_dbfs() -> None:
    recording = real_speech(5.0) * 0.05
    recording[RATE * 2] = 0.9  # one loud click in quiet speech

    prepared = prepare_reference(recording, RATE)

    assert np.abs(prepared).max() <= 10 ** (-1 / 20) + 1e-6


def test_speech_seconds_counts_only_speech() -> None:
    assert speech_seconds(with_pauses(lead=1.0, speech=3.0, tail=2.0), RATE) == pytest.approx(
        3.0, abs=0.3
    )
    assert speech_seconds(silence(3.0), RATE) == 0.0


@pytest.mark.models
def test_detector_hears_most_of_every_continuous_real_recording(reference_voices) -> None:
    """People reading aloud: at least 80% of each recording counts as speech."""
    for name, path in reference_voices.items():
        audio, rate = sf.read(path, dtype="float32")
        assert speech_seconds(audio, rate) >= 0.8 * len(audio) / rate, name


def test_pool_references_joins_with_gaps() -> None:
    first, second = speech_like(4.0), speech_like(3.0)

    pooled = pool_references([first, second], RATE)

    gap = len(pooled) - len(first) - len(second)
    assert 0.1 * RATE <= gap <= 1.0 * RATE
    assert np.array_equal(pooled[: len(first)], first)
    assert np.array_equal(pooled[-len(second) :], second)
    assert np.abs(pooled[len(first) : len(first) + gap]).max() == 0.0


def test_pool_references_needs_one_reference() -> None:
    with pytest.raises(InvalidAudio):
        pool_references([], RATE)


def test_real_world_flow_decode_then_prepare(tmp_path: Path) -> None:
    recording = with_pauses(lead=1.0, speech=4.0, tail=1.0, rate=44_100)
    path = write_audio_file(tmp_path / "upload.m4a", recording, 44_100, "ipod", "aac", 44_100)

    prepared = prepare_reference(decode_audio(path, RATE), RATE)

    assert 4.0 <= len(prepared) / RATE <= 4.6


# --- encoding ----------------------------------------------------------------------------

# Deliberately awkward piece sizes: empty, single samples, and sizes off any codec frame.
CHUNK_SIZES = [0, 1, 7, 480, 5_003, 0, 12_000, 24_000, 11_999]


def chunks_of(samples: np.ndarray, sizes: list[int], rate: int) -> Iterator[AudioChunk]:
    start = 0
    for index, size in enumerate(sizes):
        yield AudioChunk(samples[start : start + size], rate, index=index)
        start += size


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_streamed_output_decodes_to_expected_audio(fmt: str) -> None:
    speech = speech_like(sum(CHUNK_SIZES) / TTS_RATE, TTS_RATE)

    data = b"".join(encode_chunks(chunks_of(speech, CHUNK_SIZES, TTS_RATE), fmt))
    decoded, rate = decode_output(data, fmt, TTS_RATE)

    assert len(decoded) / rate == pytest.approx(len(speech) / TTS_RATE, abs=0.1)
    assert rms_dbfs(decoded) == pytest.approx(rms_dbfs(speech), abs=2.0)
    assert dominant_hz(decoded, rate) == pytest.approx(dominant_hz(speech, TTS_RATE), abs=10)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_one_shot_output_decodes_to_expected_audio(fmt: str) -> None:
    speech = speech_like(1.5, TTS_RATE)

    decoded, rate = decode_output(encode_audio(speech, TTS_RATE, fmt), fmt, TTS_RATE)

    assert len(decoded) / rate == pytest.approx(1.5, abs=0.1)
    assert rms_dbfs(decoded) == pytest.approx(rms_dbfs(speech), abs=2.0)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_chunk_joins_are_seamless(fmt: str) -> None:
    """Encoding in pieces gives the same audio as encoding in one go."""
    speech = speech_like(sum(CHUNK_SIZES) / TTS_RATE, TTS_RATE)
    encoder = open_encoder(fmt, TTS_RATE)
    start, pieces = 0, []
    for size in CHUNK_SIZES:
        pieces.append(encoder.write(speech[start : start + size]))
        start += size
    pieces.append(encoder.close())

    streamed, _ = decode_output(b"".join(pieces), fmt, TTS_RATE)
    whole, _ = decode_output(encode_audio(speech, TTS_RATE, fmt), fmt, TTS_RATE)

    assert len(streamed) == len(whole)
    assert np.abs(streamed - whole).max() < 1e-3


def test_streamed_wav_header_marks_length_unknown() -> None:
    first = next(encode_chunks(iter([AudioChunk(speech_like(0.5, TTS_RATE), TTS_RATE)]), "wav"))

    assert first[:4] == b"RIFF" and first[8:12] == b"WAVE"
    assert first[4:8] == b"\xff\xff\xff\xff"
    assert first[36:40] == b"data" and first[40:44] == b"\xff\xff\xff\xff"
    assert struct.unpack("<I", first[24:28])[0] == TTS_RATE


def test_one_shot_wav_header_has_exact_sizes() -> None:
    data = encode_audio(speech_like(1.0, TTS_RATE), TTS_RATE, "wav")

    riff_size, data_size = struct.unpack("<I", data[4:8])[0], struct.unpack("<I", data[40:44])[0]
    assert riff_size == len(data) - 8
    assert data_size == TTS_RATE * 2 == len(data) - 44


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_encode_chunks_yields_after_each_chunk(fmt: str) -> None:
    consumed = 0
    total = 5

    def synthesis() -> Iterator[AudioChunk]:
        nonlocal consumed
        for index in range(total):
            consumed += 1
            yield AudioChunk(speech_like(1.0, TTS_RATE), TTS_RATE, index=index)

    consumed_at_each_yield = [consumed for _ in encode_chunks(synthesis(), fmt)]

    assert consumed_at_each_yield[0] == 1
    assert set(range(1, total + 1)) <= set(consumed_at_each_yield)


def test_encode_chunks_can_send_header_before_first_chunk() -> None:
    def never_ready() -> Iterator[AudioChunk]:
        raise AssertionError("the header must not wait for synthesis")
        yield  # pragma: no cover

    header = next(encode_chunks(never_ready(), "wav", sample_rate=TTS_RATE))

    assert header.startswith(b"RIFF")


def test_encode_chunks_rejects_mixed_sample_rates() -> None:
    chunks = [AudioChunk(speech_like(0.2, TTS_RATE), TTS_RATE), AudioChunk(silence(0.2), RATE)]

    with pytest.raises(ValueError, match="Hz"):
        b"".join(encode_chunks(chunks, "mp3"))


def test_opus_output_runs_at_48_khz() -> None:
    decoded, rate = decode_with_pyav(encode_audio(speech_like(1.0, TTS_RATE), TTS_RATE, "opus"))

    assert rate == 48_000
    assert len(decoded) / rate == pytest.approx(1.0, abs=0.05)


def test_encoders_accept_empty_input() -> None:
    for fmt in FORMATS:
        encoder = open_encoder(fmt, TTS_RATE)
        encoder.write(np.zeros(0, np.float32))
        encoder.close()


def test_unknown_format_lists_supported_ones() -> None:
    with pytest.raises(UnsupportedFormat, match=r"wma.*mp3.*opus"):
        encode_audio(speech_like(0.1, TTS_RATE), TTS_RATE, "wma")
    with pytest.raises(UnsupportedFormat):
        encode_chunks([], "wma")  # checked before any chunk is asked for
    with pytest.raises(UnsupportedFormat):
        content_type("wma")


@pytest.mark.parametrize(
    ("fmt", "mime", "ext"),
    [
        ("wav", "audio/wav", "wav"),
        ("flac", "audio/flac", "flac"),
        ("mp3", "audio/mpeg", "mp3"),
        ("opus", "audio/ogg", "opus"),
        ("aac", "audio/aac", "aac"),
        ("pcm", "audio/pcm", "pcm"),
    ],
)
def test_format_metadata(fmt: str, mime: str, ext: str) -> None:
    assert content_type(fmt).startswith(mime)
    assert extension(fmt) == ext
