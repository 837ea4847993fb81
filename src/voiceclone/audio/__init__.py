"""Audio in and out: decode, validate and normalise references; encode streamed output."""

from voiceclone.audio.chunk import AudioChunk
from voiceclone.audio.decode import decode_audio
from voiceclone.audio.encode import (
    FORMATS,
    StreamEncoder,
    content_type,
    encode_audio,
    encode_chunks,
    extension,
    open_encoder,
)
from voiceclone.audio.reference import pool_references, prepare_reference, speech_seconds

__all__ = [
    "FORMATS",
    "AudioChunk",
    "StreamEncoder",
    "content_type",
    "decode_audio",
    "encode_audio",
    "encode_chunks",
    "extension",
    "open_encoder",
    "pool_references",
    "prepare_reference",
    "speech_seconds",
]
