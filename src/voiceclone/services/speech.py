"""Turning reference recordings into voices (speaking them is the pipeline's:
:mod:`voiceclone.services.pipeline`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from voiceclone.audio.decode import decode_audio
from voiceclone.audio.reference import prepare_reference
from voiceclone.engines.base import Engine, VoiceProfile, VoiceSample
from voiceclone.errors import InvalidAudio

Source = str | Path | bytes | BinaryIO


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
