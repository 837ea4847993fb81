"""Turning reference files into voices, and the one pipeline every output is spoken through.

:func:`synthesize` is what jobs, streams, previews, the OpenAI route and the CLI all call:
the engine's chunks as they are made, checked (finite, and not empty) and watermarked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np

from voiceclone.audio.chunk import AudioChunk
from voiceclone.audio.decode import decode_audio
from voiceclone.audio.reference import prepare_reference
from voiceclone.engines.base import Engine, VoiceProfile, VoiceSample
from voiceclone.errors import InvalidAudio, InvalidText, VoiceCloneError
from voiceclone.metrics import measured
from voiceclone.safety.marks import JOB_KIND, mark_speech
from voiceclone.services.capacity import CAPACITY
from voiceclone.services.scheduler import SCHEDULERS
from voiceclone.settings import Settings
from voiceclone.tracing import traced_chunks

Source = str | Path | bytes | BinaryIO
T = TypeVar("T")

NO_AUDIO_MESSAGE = (
    "Nothing in this text could be spoken: it produced no audio. Use words rather than only "
    "symbols or punctuation."
)


class EngineFailure(VoiceCloneError):
    """The engine produced something unusable (e.g. non-finite samples): a server fault."""

    code = "engine_error"
    status = 500


def load_reference(source: Source, sample_rate: int, name: str = "") -> VoiceSample:
    """Decode, validate and clean one reference recording."""
    samples = prepare_reference(decode_audio(source, sample_rate), sample_rate)
    return VoiceSample(samples=samples, sample_rate=sample_rate, name=name)


def make_profile(
    engine: Engine, samples: Sequence[VoiceSample], languages: Sequence[str] = ()
) -> VoiceProfile:
    """The engine's profile for ``samples``, refused if any of its numbers is not finite
    (such a profile would speak silence, so it is never stored)."""
    profile = engine.create_voice(samples, languages)
    if not profile.is_finite():
        raise InvalidAudio(
            "A voice could not be made from this recording (the voice model produced invalid "
            "values). Try a different recording."
        )
    return profile


def clone_voice(
    engine: Engine, sources: Sequence[Source], languages: Sequence[str] = ()
) -> VoiceProfile:
    """A voice profile pooled from one or more reference recordings."""
    samples = [
        load_reference(source, engine.sample_rate, name=str(source)[:80]) for source in sources
    ]
    return make_profile(engine, samples, languages)


def synthesize(
    engine: Engine,
    text: str | Iterable[str],
    voice: VoiceProfile,
    language: str | None = None,
    speed: float = 1.0,
    *,
    subject: str,
    settings: Settings | None = None,
) -> Iterator[AudioChunk]:
    """Speech as it is made, checked and watermarked (the mark's payload hashes
    ``subject``: a job id, or the id of a stream)."""
    route = subject.split(":")[0]
    made = SCHEDULERS.of(engine.name).scheduled(
        CAPACITY.observed(measured(engine.synthesize(text, voice, language, speed), route)),
        live=route != JOB_KIND,
    )
    marked = mark_speech(checked_audio(made), subject, settings)
    return traced_chunks(marked, "voiceclone.synthesis", route=route, language=language)


def checked_audio(chunks: Iterable[AudioChunk]) -> Iterator[AudioChunk]:
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


def started(items: Iterator[T]) -> Iterator[T]:
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
