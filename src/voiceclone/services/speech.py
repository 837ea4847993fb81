"""Turning reference files into voices and text into encoded audio streams."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from voiceclone.audio.chunk import AudioChunk
from voiceclone.audio.decode import decode_audio
from voiceclone.audio.encode import encode_chunks
from voiceclone.audio.reference import prepare_reference
from voiceclone.engines.base import Engine, VoiceProfile, VoiceSample

Source = str | Path | bytes | BinaryIO


def load_reference(source: Source, sample_rate: int, name: str = "") -> VoiceSample:
    """Decode, validate and clean one reference recording."""
    samples = prepare_reference(decode_audio(source, sample_rate), sample_rate)
    return VoiceSample(samples=samples, sample_rate=sample_rate, name=name)


def clone_voice(
    engine: Engine, sources: Sequence[Source], languages: Sequence[str] = ()
) -> VoiceProfile:
    """A voice profile pooled from one or more reference recordings."""
    samples = [
        load_reference(source, engine.sample_rate, name=str(source)[:80]) for source in sources
    ]
    return engine.create_voice(samples, languages)


def speak(
    engine: Engine,
    text: str | Iterable[str],
    voice: VoiceProfile,
    language: str | None = None,
    speed: float = 1.0,
) -> Iterator[AudioChunk]:
    return engine.synthesize(text, voice, language, speed)


def speak_encoded(
    engine: Engine,
    text: str | Iterable[str],
    voice: VoiceProfile,
    audio_format: str,
    language: str | None = None,
    speed: float = 1.0,
) -> Iterator[bytes]:
    """Encoded bytes as soon as each chunk of speech is ready."""
    return encode_chunks(speak(engine, text, voice, language, speed), audio_format)
