"""Test doubles and helpers for service-level tests (storage, db, jobs, services, api).

``FakeEngine`` implements the :class:`voiceclone.engines.Engine` protocol without a model:
it "speaks" each piece of text as the next short stretch of a real recording at 24 kHz,
instantly, so job and API tests run in milliseconds (and the watermark has speech to sit
in). Use the real Kokoro engine (the ``engine`` fixture) only where the voice itself is the
point.

    engine = FakeEngine()                         # stock voice "fake_voice"
    engine = FakeEngine(chunk_delay=0.1)          # slow enough to cancel or kill mid-job
    engine = FakeEngine(failure=InvalidText("no", code="x"), fail_after_chunks=1)

``write_speech_wav`` makes a reference recording that ``prepare_reference`` accepts: real
speech (a person reading, from the installed reference recordings; the speech detector is a
trained model, so synthetic tones do not pass); ``RecordingQueue`` is a JobQueue that only
records what was submitted; ``wait_until`` polls a condition with a deadline.
"""

from __future__ import annotations

import struct
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.assets.paths import AssetPaths
from voiceclone.audio.chunk import AudioChunk
from voiceclone.db import session_scope
from voiceclone.engines.base import VoiceProfile, VoiceSample
from voiceclone.errors import InvalidText
from voiceclone.safety.consent import ConsentClaim
from voiceclone.services import jobs
from voiceclone.services.validation import is_blank
from voiceclone.text.language import resolve_language

FAKE_SAMPLE_RATE = 24_000
FAKE_STOCK_VOICE = "fake_voice"
FAKE_STYLE_DIM = 4
DEFAULT_PITCH_HZ = 220.0
REFERENCE_RATE = 16_000
#: The consent a caller gives in the default (attest) mode.
ATTESTED = ConsentClaim(attested=True)
#: A speaker who reads without pauses: their recording is speech from start to end.
CONTINUOUS_SPEAKER = "en_brandon"
_LEAD_IN_LEVEL = 0.02


class FakeEngine:
    """A model-free Engine: one chunk of recorded speech per ``chars_per_chunk`` of text.

    Counters (``chunks_made``, ``synthesize_calls``) and the ``first_chunk`` event let a
    test see how far synthesis got. ``chunk_delay`` sleeps before each chunk;
    ``failure`` is raised after ``fail_after_chunks`` chunks.
    """

    name = "fake"
    version = "1"
    sample_rate = FAKE_SAMPLE_RATE

    def __init__(
        self,
        *,
        chunk_seconds: float = 0.2,
        chars_per_chunk: int = 40,
        chunk_delay: float = 0.0,
        failure: BaseException | None = None,
        fail_after_chunks: int = 0,
    ) -> None:
        self.chunk_seconds = chunk_seconds
        self.chars_per_chunk = chars_per_chunk
        self.chunk_delay = chunk_delay
        self.failure = failure
        self.fail_after_chunks = fail_after_chunks
        self.chunks_made = 0
        self.synthesize_calls = 0
        self.last_sample_count = 0
        self.first_chunk = threading.Event()
        self._lock = threading.Lock()

    def pieces(self, text: str) -> list[str]:
        """How the text is cut into chunks (one chunk per piece)."""
        return textwrap.wrap(text, self.chars_per_chunk) or [text]

    def expected_seconds(self, text: str) -> float:
        return len(self.pieces(text)) * self.chunk_seconds

    def stock_voice_names(self) -> list[str]:
        return [FAKE_STOCK_VOICE]

    def stock_voice(self, name: str) -> VoiceProfile:
        if name != FAKE_STOCK_VOICE:
            raise InvalidText(f"Unknown stock voice {name!r}.", code="unknown_voice")
        return self._profile(np.full((1, FAKE_STYLE_DIM), DEFAULT_PITCH_HZ), "stock", [])

    def create_voice(
        self, samples: Sequence[VoiceSample], languages: Sequence[str] = ()
    ) -> VoiceProfile:
        if not samples:
            raise ValueError("create_voice needs at least one sample")
        self.last_sample_count = len(samples)
        pitch = DEFAULT_PITCH_HZ + 10.0 * len(samples)
        return self._profile(np.full((1, FAKE_STYLE_DIM), pitch), "fake-clone", list(languages))

    def _profile(self, style: np.ndarray, method: str, languages: list[str]) -> VoiceProfile:
        return VoiceProfile(
            engine=self.name,
            engine_version=self.version,
            style=style.astype(np.float32),
            languages=languages,
            method=method,
        )

    def synthesize(
        self,
        text: str | Iterable[str],
        voice: VoiceProfile,
        language: str | None = None,
        speed: float = 1.0,
    ) -> Iterator[AudioChunk]:
        if not 0.25 <= speed <= 4.0:
            raise InvalidText(
                f"Speed must be between 0.25 and 4; got {speed}.", code="invalid_speed"
            )
        whole = text if isinstance(text, str) else "".join(text)
        if is_blank(whole):
            raise InvalidText("There is no text to speak.", code="empty_text")
        resolve_language(whole, language)
        with self._lock:
            self.synthesize_calls += 1
        return self._chunks(self.pieces(whole))

    def _chunks(self, pieces: list[str]) -> Iterator[AudioChunk]:
        length = round(self.chunk_seconds * FAKE_SAMPLE_RATE)
        speech = real_speech(self.chunk_seconds * len(pieces), FAKE_SAMPLE_RATE)
        for index, piece in enumerate(pieces):
            if self.failure is not None and index >= self.fail_after_chunks:
                raise self.failure
            if self.chunk_delay:
                time.sleep(self.chunk_delay)
            with self._lock:
                self.chunks_made += 1
            self.first_chunk.set()
            samples = speech[index * length : (index + 1) * length]
            yield AudioChunk(samples=samples, sample_rate=FAKE_SAMPLE_RATE, text=piece, index=index)


class RecordingQueue:
    """A JobQueue that runs nothing and remembers what it was given."""

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.engines: list[str | None] = []

    def submit(self, job_id: str, engine: str | None = None) -> None:
        self.submitted.append(job_id)
        self.engines.append(engine)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@lru_cache(maxsize=8)
def _continuous_speech(speaker: str, rate: int) -> np.ndarray:
    """A real recording from the installed reference set, its leading silence cut."""
    audio, source_rate = sf.read(AssetPaths.from_home().refvoice_file(speaker), dtype="float32")
    audio = soxr.resample(audio, source_rate, rate).astype(np.float32)
    start = int(np.argmax(np.abs(audio) > _LEAD_IN_LEVEL))
    end = len(audio) - int(np.argmax(np.abs(audio[::-1]) > _LEAD_IN_LEVEL))
    return audio[start:end]


def real_speech(
    seconds: float, rate: int = REFERENCE_RATE, speaker: str = CONTINUOUS_SPEAKER
) -> np.ndarray:
    """``seconds`` of a person reading aloud without pauses (repeated if need be)."""
    speech = _continuous_speech(speaker, rate)
    wanted = round(seconds * rate)
    return np.tile(speech, -(-wanted // len(speech)))[:wanted].copy()


def silence(seconds: float, rate: int = REFERENCE_RATE) -> np.ndarray:
    return np.zeros(round(seconds * rate), dtype=np.float32)


def with_pauses(lead: float, speech: float, tail: float, rate: int = REFERENCE_RATE) -> np.ndarray:
    """Real continuous speech between stretches of digital silence."""
    return np.concatenate([silence(lead, rate), real_speech(speech, rate), silence(tail, rate)])


def write_speech_wav(path: Path, seconds: float = 4.5, speaker: str = CONTINUOUS_SPEAKER) -> Path:
    """A reference recording that ``prepare_reference`` accepts: real speech."""
    samples = real_speech(seconds, speaker=speaker)
    sf.write(path, samples, REFERENCE_RATE, format="WAV", subtype="PCM_16")
    return path


def write_silent_wav(path: Path, seconds: float = 4.5) -> Path:
    """A valid WAV file with no speech in it (rejected as a reference)."""
    sf.write(
        path, np.zeros(round(seconds * REFERENCE_RATE), np.float32), REFERENCE_RATE, format="WAV"
    )
    return path


def wav_layout(content: bytes) -> tuple[int, int, dict[bytes, bytes]]:
    """Where a WAV's samples start, its data chunk's size field, and its INFO fields."""
    offset, info = 12, {}
    while content[offset : offset + 4] != b"data":
        chunk_id = content[offset : offset + 4]
        size = struct.unpack_from("<I", content, offset + 4)[0]
        if chunk_id == b"LIST" and content[offset + 8 : offset + 12] == b"INFO":
            field = offset + 12
            while field < offset + 8 + size:
                name = content[field : field + 4]
                length = struct.unpack_from("<I", content, field + 4)[0]
                info[name] = content[field + 8 : field + 8 + length].rstrip(b"\0")
                field += 8 + length + length % 2
        offset += 8 + size + size % 2
    return offset + 8, struct.unpack_from("<I", content, offset + 4)[0], info


def wav_samples(content: bytes) -> bytes:
    """The sample bytes of a WAV, whatever chunks come before them."""
    return content[wav_layout(content)[0] :]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> None:
    """Poll ``condition`` until it is true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


def submit_fake_job(
    session_factory: sessionmaker[Session],
    queue: object,
    engine: FakeEngine,
    text: str,
    fmt: str = "wav",
    voice: str = FAKE_STOCK_VOICE,
) -> jobs.JobInfo:
    """Alice's job, submitted through the service layer."""
    with session_scope(session_factory) as session:
        return jobs.submit_job(session, queue, engine, "alice", text, voice, None, fmt, 1.0)


def read_job(session_factory: sessionmaker[Session], job_id: str) -> jobs.JobInfo:
    """Alice's job as the service reports it now."""
    with session_scope(session_factory) as session:
        return jobs.get_job(session, "alice", job_id)
