"""The small protocol every engine implements, and the voice profile it produces."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from voiceclone.audio.chunk import AudioChunk


def _encode_array(array: np.ndarray | None) -> dict[str, Any] | None:
    if array is None:
        return None
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "f32": base64.b64encode(data.tobytes()).decode("ascii")}


def _decode_array(payload: dict[str, Any] | None) -> np.ndarray | None:
    if payload is None:
        return None
    raw = base64.b64decode(payload["f32"])
    return np.frombuffer(raw, dtype="<f4").reshape(payload["shape"]).astype(np.float32)


@dataclass
class VoiceProfile:
    """Everything an engine needs to speak in a voice, computed once from the samples.

    ``style`` is engine specific (for Kokoro a (rows, 256) style table, one row per
    input length, or a single row); ``speaker_embedding`` is the reference's d-vector,
    kept so later methods can re-derive or compare without the audio; ``equalizer_db``
    holds per-band gains (see :mod:`voiceclone.audio.equalize`) that match the output's
    timbre to the reference, or None; ``pitch_shift_semitones`` moves the predicted pitch
    to the reference's level.
    """

    engine: str
    engine_version: str
    style: np.ndarray | None = None
    speaker_embedding: np.ndarray | None = None
    languages: list[str] = field(default_factory=list)
    method: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    equalizer_db: np.ndarray | None = None
    pitch_shift_semitones: float = 0.0

    def is_finite(self) -> bool:
        """Whether every number of the profile is finite (NaN/Inf would speak silence)."""
        arrays = (self.style, self.speaker_embedding, self.equalizer_db)
        finite = all(array is None or bool(np.isfinite(array).all()) for array in arrays)
        return finite and bool(np.isfinite(self.pitch_shift_semitones))

    def to_json(self) -> str:
        return json.dumps(
            {
                "engine": self.engine,
                "engine_version": self.engine_version,
                "style": _encode_array(self.style),
                "speaker_embedding": _encode_array(self.speaker_embedding),
                "languages": self.languages,
                "method": self.method,
                "details": self.details,
                "equalizer_db": _encode_array(self.equalizer_db),
                "pitch_shift_semitones": self.pitch_shift_semitones,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> VoiceProfile:
        data = json.loads(text)
        return cls(
            engine=data["engine"],
            engine_version=data["engine_version"],
            style=_decode_array(data.get("style")),
            speaker_embedding=_decode_array(data.get("speaker_embedding")),
            languages=list(data.get("languages", [])),
            method=data.get("method", ""),
            details=dict(data.get("details", {})),
            equalizer_db=_decode_array(data.get("equalizer_db")),
            pitch_shift_semitones=float(data.get("pitch_shift_semitones", 0.0)),
        )


@dataclass(frozen=True)
class VoiceSample:
    """One decoded reference recording: mono float32 at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int
    name: str = ""


@dataclass(frozen=True)
class EngineInfo:
    """What an engine is, and whether this process could run it, known without loading it."""

    name: str
    version: str
    languages: tuple[str, ...]
    sample_rate: int
    device: str
    streams: bool
    state: Literal["ready", "missing", "unavailable"]
    """ready; missing (files to install, ``detail`` says which and how); unavailable (this
    version cannot run it)."""
    detail: str = ""
    licence: str = ""

    @property
    def ready(self) -> bool:
        return self.state == "ready"


@runtime_checkable
class Engine(Protocol):
    name: str
    version: str
    sample_rate: int

    def warm_up(self) -> None:
        """Do lazy one-time work now (model caches, first inference), before requests."""
        ...

    def stock_voice_names(self) -> list[str]:
        """Names of the voices the engine ships with."""
        ...

    def stock_voice(self, name: str) -> VoiceProfile:
        """The profile of a shipped voice."""
        ...

    def create_voice(
        self, samples: Sequence[VoiceSample], languages: Sequence[str] = ()
    ) -> VoiceProfile:
        """Turn reference recordings into a reusable profile."""
        ...

    def synthesize(
        self,
        text: str | Iterable[str],
        voice: VoiceProfile,
        language: str | None = None,
        speed: float = 1.0,
    ) -> Iterator[AudioChunk]:
        """Yield audio as it is made: a short first chunk, then whole sentences.

        ``text`` may be a stream of pieces (a file read in blocks, words from a socket);
        memory stays flat however long it is.
        """
        ...
