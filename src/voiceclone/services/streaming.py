"""Live speech: validate a request, then stream encoded audio as the engine makes it.

Used by the streaming HTTP routes (``/v1/speech``, the OpenAI-compatible route, voice
previews) and the WebSocket. Everything a caller can get wrong is checked before the first
byte is produced, so errors are clean 4xx responses rather than broken streams. Text that
arrives over time (the WebSocket) is spoken sentence by sentence as each one completes
(:func:`live_speech_bytes`); :class:`TextFeed` carries it from the socket to the engine.
"""

from __future__ import annotations

import dataclasses
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from voiceclone.audio.chunk import AudioChunk
from voiceclone.audio.encode import encode_chunks, output_format
from voiceclone.engines.base import Engine, VoiceProfile
from voiceclone.errors import InvalidRequest, NotFound
from voiceclone.metrics import measured
from voiceclone.safety.marks import mark_speech, new_subject, provenance_tags
from voiceclone.services.scheduler import SCHEDULERS, StreamTurns
from voiceclone.services.speech import checked_audio, started, synthesize
from voiceclone.services.validation import check_speed, check_text
from voiceclone.services.voices import find_voice, get_voice, preview_text, voice_profile
from voiceclone.settings import Settings, get_settings
from voiceclone.storage.base import ObjectStore
from voiceclone.text.language import AUTO, resolve_language
from voiceclone.text.split import iter_sentences
from voiceclone.text.words import WordSink, timed_words

#: Voice names of OpenAI's speech API, mapped to the closest stock voice, so clients written
#: for OpenAI work unchanged. A voice of the caller's with the same name takes precedence.
OPENAI_VOICE_ALIASES: dict[str, str] = {
    "alloy": "af_alloy",
    "ash": "am_adam",
    "ballad": "bm_fable",
    "cedar": "am_michael",
    "coral": "af_heart",
    "echo": "am_echo",
    "fable": "bm_fable",
    "marin": "af_bella",
    "nova": "af_nova",
    "onyx": "am_onyx",
    "sage": "af_sarah",
    "shimmer": "af_sky",
    "verse": "am_puck",
}

#: Dated snapshots of OpenAI's model, such as gpt-4o-mini-tts-2025-03-20.
DATED_MODEL = re.compile(r"gpt-4o-mini-tts-[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: OpenAI's speech model names, accepted as aliases of the engine this server runs.
OPENAI_MODEL_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")


#: Model names that pick an engine besides its own name.
ENGINE_MODEL_NAMES = {"xtts-v2": "xtts"}


def openai_model_ids(engines: Iterable[Engine]) -> list[str]:
    """The ``model`` values this server takes: each engine's name (and other names for
    it), then OpenAI's, which mean the default engine."""
    names = [engine.name for engine in engines]
    extra = [model for model, name in ENGINE_MODEL_NAMES.items() if name in names]
    return [*names, *extra, *OPENAI_MODEL_ALIASES]


def check_openai_model(engines: Iterable[Engine], model: str) -> None:
    """Accept the engines' names and OpenAI's TTS model names (dated ones included)."""
    models = openai_model_ids(engines)
    if model not in models and not DATED_MODEL.fullmatch(model):
        raise InvalidRequest(
            f"Unknown model {model!r}; available: {', '.join(models)}.", code="model_not_found"
        )


def engine_for_model(engines: dict[str, Engine], default: Engine, model: str) -> Engine:
    """The engine an OpenAI ``model`` names; OpenAI's own names mean the default one."""
    check_openai_model(engines.values(), model)
    name = ENGINE_MODEL_NAMES.get(model, model)
    return engines.get(name, default)


@dataclass(frozen=True)
class VoiceSettings:
    """A validated voice, language, format and speed: everything but the text."""

    profile: VoiceProfile
    language: str | None
    format: str
    speed: float

    @property
    def content_type(self) -> str:
        return output_format(self.format).content_type


@dataclass(frozen=True)
class SpeechPlan:
    text: str
    voice: VoiceSettings

    @property
    def content_type(self) -> str:
        return self.voice.content_type


def voice_settings(
    session: Session,
    engine: Engine,
    owner: str,
    voice_ref: str,
    language: str | None = None,
    fmt: str = "wav",
    speed: float = 1.0,
    *,
    openai_aliases: bool = False,
    store: ObjectStore | None = None,
) -> VoiceSettings:
    """Check format, speed and language, then resolve the voice (see ``find_voice``).

    ``openai_aliases``: also accept OpenAI's voice names (``alloy``, ``nova``...).
    """
    audio_format = output_format(fmt).name
    speed = check_speed(speed)
    code = None
    if language and language.strip().lower() != AUTO:
        code = resolve_language("", language)
    return VoiceSettings(
        profile=_profile(session, engine, owner, voice_ref, openai_aliases, store),
        language=code,
        format=audio_format,
        speed=speed,
    )


def _profile(
    session: Session,
    engine: Engine,
    owner: str,
    voice_ref: str,
    openai_aliases: bool,
    store: ObjectStore | None,
) -> VoiceProfile:
    try:
        return find_voice(session, engine, owner, voice_ref, store).profile
    except NotFound:
        alias = OPENAI_VOICE_ALIASES.get((voice_ref or "").strip().lower())
        if not openai_aliases or alias is None or alias not in engine.stock_voice_names():
            raise
        return engine.stock_voice(alias)


def plan_speech(
    session: Session,
    engine: Engine,
    owner: str,
    text: str,
    voice_ref: str,
    language: str | None = None,
    fmt: str = "wav",
    speed: float = 1.0,
    *,
    max_chars: int | None = None,
    openai_aliases: bool = False,
    store: ObjectStore | None = None,
) -> SpeechPlan:
    """Validate a one-shot speech request; raises a 4xx VoiceCloneError on bad input."""
    check_text(text, max_chars)
    voice = voice_settings(
        session,
        engine,
        owner,
        voice_ref,
        language,
        fmt,
        speed,
        openai_aliases=openai_aliases,
        store=store,
    )
    return SpeechPlan(text=text, voice=voice)


def plan_preview(
    session: Session,
    engine: Engine,
    owner: str,
    voice_id: str,
    fmt: str = "mp3",
    store: ObjectStore | None = None,
) -> SpeechPlan:
    """A short sentence in one of the owner's voices, in the voice's language."""
    info = get_voice(session, owner, voice_id)
    voice = VoiceSettings(
        profile=voice_profile(session, engine, owner, voice_id, store),
        language=info.language,
        format=output_format(fmt).name,
        speed=1.0,
    )
    return SpeechPlan(text=preview_text(info.language), voice=voice)


def speech_bytes(
    engine: Engine,
    text: str | Iterable[str],
    voice: VoiceSettings,
    subject: str | None = None,
    settings: Settings | None = None,
    on_words: WordSink | None = None,
) -> Iterator[bytes]:
    """Encoded, watermarked audio, yielded as soon as each chunk of speech is made.

    The first chunk is made before this returns, so a request that yields no audio fails
    here, before a response has begun. Closing the result stops synthesis before the next
    chunk. ``subject`` ties the mark and the tags to the request (default: a fresh id);
    ``on_words`` receives the word timings as the audio is encoded.
    """
    subject = subject or new_subject("speech")
    chunks = started(
        synthesize(
            engine,
            text,
            voice.profile,
            voice.language,
            voice.speed,
            subject=subject,
            settings=settings,
        )
    )
    encoded = encode_chunks(
        timed_words(chunks, on_words) if on_words else chunks,
        voice.format,
        sample_rate=engine.sample_rate,
        tags=provenance_tags(subject),
    )

    def stream() -> Iterator[bytes]:
        try:
            yield from encoded
        finally:
            encoded.close()
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    return stream()


#: Language detection looks at most this much of the text heard so far.
LIVE_DETECTION_CHARS = 2_000


def live_speech_bytes(
    engine: Engine,
    pieces: Iterable[str],
    voice: VoiceSettings,
    settings: Settings | None = None,
    on_words: WordSink | None = None,
) -> Iterator[bytes]:
    """Like :func:`speech_bytes`, for text that arrives over time (a WebSocket): each
    sentence is spoken as soon as it is complete, instead of waiting for enough text to
    detect the language. Without a language, it is detected from the text heard so far.
    The whole utterance carries one continuous watermark, and one timeline for its words.
    """
    settings = settings or get_settings()
    pause = np.zeros(round(settings.sentence_pause_ms / 1000 * engine.sample_rate), np.float32)
    subject = new_subject("live")

    turns = StreamTurns(SCHEDULERS.of(engine.name), live=True)

    def chunks() -> Iterator[AudioChunk]:
        heard = ""
        index = 0
        for sentence in iter_sentences(pieces, settings.chunk_max_chars):
            if not sentence.strip():
                continue
            if len(heard) < LIVE_DETECTION_CHARS:
                heard = f"{heard} {sentence}"[:LIVE_DETECTION_CHARS]
            language = voice.language or resolve_language(heard, None)
            if index:
                yield AudioChunk(pause, engine.sample_rate, index=index)
                index += 1
            spoken = engine.synthesize(sentence, voice.profile, language, voice.speed)
            for chunk in turns.made(spoken):
                yield dataclasses.replace(chunk, index=index)
                index += 1

    marked = mark_speech(checked_audio(measured(chunks(), "live")), subject, settings)
    return encode_chunks(
        timed_words(marked, on_words) if on_words else marked,
        voice.format,
        sample_rate=engine.sample_rate,
        tags=provenance_tags(subject),
    )


class TextFeed:
    """Text arriving in pieces (e.g. from a WebSocket) as a blocking iterator for the engine.

    ``put`` pieces from any thread; ``end`` finishes the text; ``abort`` also ends it but
    marks the utterance as abandoned (the consumer stops as soon as it looks).
    """

    _END = object()

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.aborted = threading.Event()

    def put(self, text: str) -> None:
        if text:
            self._queue.put(text)

    def end(self) -> None:
        self._queue.put(self._END)

    def abort(self) -> None:
        self.aborted.set()
        self._queue.put(self._END)

    def __iter__(self) -> Iterator[str]:
        while True:
            item = self._queue.get()
            if item is self._END or self.aborted.is_set():
                return
            yield item  # type: ignore[misc]
