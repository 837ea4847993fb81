"""The speech pipeline: a validated request in, audio out, stage by stage.

Every way of speaking goes through one :class:`SpeechPipeline`, made once with the app (or
the worker, or the command line) and held by it: HTTP streams and their server-sent-event
form, the WebSocket, the OpenAI route, voice previews, jobs and ``voiceclone synth``.

A request (:class:`SpeechRequest`) is validated once, by :meth:`SpeechPipeline.plan`. Then
:meth:`SpeechPipeline.speak` turns it into audio chunks:

1. **speak**: the engine makes the chunks — for text that arrives while it is spoken (a
   WebSocket), sentence by sentence as each one completes;
2. **measure**: time to first audio, engine time and real-time factor (Prometheus);
3. **observe**: the engine's speed, from which live streams are admitted;
4. **take turns**: each chunk waits for its turn at the engine, most urgent stream first;
5. **check**: non-finite samples are a server fault, a text that made no sound a 4xx;
6. **mark**: the inaudible watermark, naming this server and the request's subject;
7. **trace**: one span from the first request for audio to the last chunk.

Stages 2 and 3 time the engine alone, so they run inside the turn that stage 4 grants.
:meth:`SpeechPipeline.encode` then makes the first chunk before returning (so a request
that can make no audio still gets a clean 4xx), collects word timings and encodes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from sqlalchemy.orm import Session

from voiceclone.audio.chunk import AudioChunk
from voiceclone.audio.encode import encode_chunks, output_format
from voiceclone.engines import held_engine
from voiceclone.engines.base import Engine, VoiceProfile
from voiceclone.errors import InvalidText, VoiceCloneError
from voiceclone.metrics import measure_speech
from voiceclone.safety.marks import mark_speech, new_subject, provenance_tags
from voiceclone.services.capacity import LiveCapacity
from voiceclone.services.scheduler import Schedulers, StreamTurns
from voiceclone.services.streaming import resolve_voice
from voiceclone.services.validation import check_speed, check_text
from voiceclone.services.voices import get_voice, preview_text, voice_profile
from voiceclone.settings import Settings, get_settings
from voiceclone.storage.base import ObjectStore
from voiceclone.text.language import AUTO, resolve_language
from voiceclone.text.split import iter_sentences
from voiceclone.text.words import WordSink, collect_word_timings
from voiceclone.tracing import trace_chunks

T = TypeVar("T")
#: Text as a whole, or in pieces as it arrives.
Text = str | Iterable[str]

NO_AUDIO_MESSAGE = (
    "Nothing in this text could be spoken: it produced no audio. Use words rather than only "
    "symbols or punctuation."
)
#: Language detection of text arriving over time looks at most this much of it.
LIVE_DETECTION_CHARS = 2_000


class EngineFailure(VoiceCloneError):
    """The engine produced something unusable (e.g. non-finite samples): a server fault."""

    code = "engine_error"
    status = 500


@dataclass(frozen=True, kw_only=True)
class SpeechRequest:
    """What to say, in which voice and how: validated, ready for the pipeline."""

    text: Text
    """The text, or its pieces as they arrive (a WebSocket: see ``incremental``)."""
    voice: VoiceProfile
    engine: str
    language: str | None = None
    """A language code, or None to detect it from the text."""
    format: str = "wav"
    speed: float = 1.0
    live: bool = True
    """Someone listens as it is made (a stream), rather than a job that is stored."""
    incremental: bool = False
    """The text arrives while it is spoken: each sentence is spoken once it is complete."""
    route: str = "speech"
    """What the metrics count it under: speech, live, job or cli."""
    subject: str = ""
    """What the watermark and the file's tags name it by (a job id, or a fresh one)."""

    @property
    def content_type(self) -> str:
        return output_format(self.format).content_type

    def with_text(self, text: Text, subject: str | None = None) -> SpeechRequest:
        """The same voice and settings for another text (the next WebSocket utterance)."""
        return dataclasses.replace(self, text=text, subject=subject or new_subject(self.route))


class SpeechPipeline:
    """Turns speech requests into audio chunks; owns what every synthesis in this process
    shares: the engines, their measured capacity for live streams and their queues."""

    def __init__(
        self,
        engines: Mapping[str, Engine] | Iterable[Engine],
        settings: Settings | None = None,
        *,
        default: str | None = None,
    ) -> None:
        held = dict(engines) if isinstance(engines, Mapping) else {e.name: e for e in engines}
        if not held:
            raise ValueError("A speech pipeline needs at least one engine.")
        self.settings = settings or get_settings()
        self.engines: dict[str, Engine] = held
        self.default_engine = held[default] if default else next(iter(held.values()))
        self.capacity = LiveCapacity(self.settings)
        self.schedulers = Schedulers(self.settings)

    def engine(self, name: str | None = None) -> Engine:
        """The engine a request names, or the default; 400 naming those held otherwise."""
        return held_engine(self.engines, self.default_engine, name)

    def measure_capacity(self) -> None:
        """Measure how much audio per second the default engine makes (at start)."""
        self.capacity.calibrate(self.default_engine)

    # -- requests ---------------------------------------------------------------------------

    def plan(
        self,
        session: Session,
        store: ObjectStore | None,
        owner: str,
        *,
        text: str | None,
        voice: str,
        engine: str | None = None,
        language: str | None = None,
        format: str = "wav",
        speed: float = 1.0,
        route: str = "speech",
        max_chars: int | None = None,
        openai_aliases: bool = False,
    ) -> SpeechRequest:
        """A live request, checked before any audio is made; raises a 4xx on bad input.

        ``text=None``: the text will arrive over time (:meth:`SpeechRequest.with_text`).
        ``openai_aliases``: also accept OpenAI's voice names (``alloy``, ``nova``...).
        """
        chosen = self.engine(engine)
        if text is not None:
            check_text(text, max_chars or self.settings.max_job_chars)
        audio_format = output_format(format).name
        checked_speed = check_speed(speed)
        code = None
        if language and language.strip().lower() != AUTO:
            code = resolve_language("", language)
        profile = resolve_voice(session, chosen, owner, voice, store, openai_aliases)
        return SpeechRequest(
            text="" if text is None else text,
            voice=profile,
            engine=chosen.name,
            language=code,
            format=audio_format,
            speed=checked_speed,
            incremental=text is None,
            route=route,
            subject=new_subject(route),
        )

    def plan_preview(
        self, session: Session, store: ObjectStore | None, owner: str, voice_id: str, format: str
    ) -> SpeechRequest:
        """A short sentence in one of the owner's voices, in the voice's language."""
        info = get_voice(session, owner, voice_id)
        engine = self.default_engine
        return SpeechRequest(
            text=preview_text(info.language),
            voice=voice_profile(session, engine, owner, voice_id, store),
            engine=engine.name,
            language=info.language,
            format=output_format(format).name,
            subject=new_subject("speech"),
        )

    # -- the pipeline -----------------------------------------------------------------------

    def speak(self, request: SpeechRequest) -> Iterator[AudioChunk]:
        """The request's speech, chunk by chunk as it is made. Closing the result stops
        synthesis before the next chunk."""
        engine = self.engines[request.engine]
        turns = StreamTurns(self.schedulers.of(engine.name), live=request.live)
        chunks = self._speak_in_turns(engine, request, turns)
        chunks = check_audio(chunks)
        chunks = mark_speech(chunks, request.subject, self.settings)
        return trace_chunks(
            chunks, "voiceclone.synthesis", route=request.route, language=request.language
        )

    def _speak_in_turns(
        self, engine: Engine, request: SpeechRequest, turns: StreamTurns
    ) -> Iterator[AudioChunk]:
        """The engine's chunks, measured and observed, each made in its turn; parts of
        incremental text are joined by the pause between sentences."""
        pause = np.zeros(
            round(self.settings.sentence_pause_ms / 1000 * engine.sample_rate), np.float32
        )
        index = 0
        for part, (text, language) in enumerate(self._spoken_parts(request)):
            if part:
                yield AudioChunk(pause, engine.sample_rate, index=index)
                index += 1
            made = engine.synthesize(text, request.voice, language, request.speed)
            made = measure_speech(made, request.route)
            made = self.capacity.observe(made)
            for chunk in turns.take(made):
                yield chunk if chunk.index == index else dataclasses.replace(chunk, index=index)
                index += 1

    def _spoken_parts(self, request: SpeechRequest) -> Iterator[tuple[Text, str | None]]:
        """The text in the parts the engine speaks it in, each with its language: the whole
        text at once, or (incremental) each sentence as it completes, the language detected
        from the text heard so far unless the request names one."""
        if not request.incremental:
            yield request.text, request.language
            return
        heard = ""
        for sentence in iter_sentences(request.text, self.settings.chunk_max_chars):
            if not sentence.strip():
                continue
            if len(heard) < LIVE_DETECTION_CHARS:
                heard = f"{heard} {sentence}"[:LIVE_DETECTION_CHARS]
            yield sentence, request.language or resolve_language(heard, None)

    def encode(
        self, request: SpeechRequest, on_words: WordSink | None = None
    ) -> Generator[bytes, None, None]:
        """Encoded audio, yielded as soon as each chunk is made. The first chunk is made
        before this returns, so a request that yields no audio fails here, before a response
        has begun. ``on_words`` receives the word timings as the audio is encoded."""
        chunks = start_early(self.speak(request))
        if on_words is not None:
            chunks = collect_word_timings(chunks, on_words)
        engine = self.engines[request.engine]
        encoded = encode_chunks(
            chunks,
            request.format,
            sample_rate=engine.sample_rate,
            tags=provenance_tags(request.subject),
        )
        return close_both(encoded, chunks)


def check_audio(chunks: Iterable[AudioChunk]) -> Iterator[AudioChunk]:
    """The chunks unchanged; :class:`EngineFailure` at a non-finite sample, and
    :class:`InvalidText` (``no_audio``) if the whole synthesis made no sound at all."""
    produced = False
    for chunk in chunks:
        if not np.isfinite(chunk.samples).all():
            raise EngineFailure("The speech engine produced invalid audio for this request.")
        produced = produced or bool(np.any(chunk.samples))
        yield chunk
    if not produced:
        raise InvalidText(NO_AUDIO_MESSAGE, code="no_audio")


def start_early(items: Iterator[T]) -> Iterator[T]:
    """``items`` with its first item already made, so errors before any output raise here
    (a streamed response can then still answer with a clean 4xx). Closing the result closes
    ``items``."""
    try:
        first = next(items)
    except StopIteration:
        return iter(())

    def resumed() -> Iterator[T]:
        try:
            yield first
            yield from items
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    return resumed()


def close_both(outer: Iterator[T], inner: Iterator[object]) -> Generator[T, None, None]:
    """``outer``; closing it also closes ``inner`` (the synthesis under an encoder)."""
    try:
        yield from outer
    finally:
        for iterator in (outer, inner):
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
