"""Request and response bodies of the HTTP API (what ``/docs`` shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from voiceclone.instance import server_id
from voiceclone.safety.watermark import Detection
from voiceclone.services.jobs import JobInfo
from voiceclone.services.voices import VoiceInfo
from voiceclone.settings import Settings


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


#: Documented on every route that can fail with a 4xx.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    "4XX": {"model": ErrorBody, "description": "A request error, with a readable message."}
}


# -- voices -------------------------------------------------------------------------------


class VoiceOut(BaseModel):
    id: str
    name: str
    language: str | None
    method: str
    sample_seconds: float
    samples: list[str] = Field(description="Storage keys of the uploaded recordings.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, info: VoiceInfo) -> VoiceOut:
        return cls(
            id=info.id,
            name=info.name,
            language=info.language,
            method=info.method,
            sample_seconds=info.sample_seconds,
            samples=list(info.sample_keys),
            created_at=info.created_at,
            updated_at=info.updated_at,
        )


class VoiceList(BaseModel):
    voices: list[VoiceOut]


class VoiceRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="The new name.")


# -- jobs -----------------------------------------------------------------------------------


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="Up to 100,000 characters.")
    voice: str = Field(description="A voice id or name of yours, a sample key, or a stock voice.")
    language: str | None = Field(None, description="Language code; default: detect.")
    format: str = Field("wav", description="wav, mp3, opus, aac, flac or pcm.")
    speed: float = Field(1.0, description="0.25 to 4.")


class JobError(BaseModel):
    code: str
    message: str


class JobUrls(BaseModel):
    job: str
    audio: str


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress_percent: float
    voice: str
    voice_id: str | None
    language: str | None
    format: str
    speed: float
    text_chars: int
    attempts: int
    duration_seconds: float | None
    result_bytes: int | None
    result_blob: str | None
    error: JobError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    urls: JobUrls

    @classmethod
    def of(cls, info: JobInfo, urls: JobUrls) -> JobOut:
        error = (
            JobError(code=info.error_code or "error", message=info.error_message or "")
            if info.error_code or info.error_message
            else None
        )
        return cls(
            id=info.id,
            status=info.status,  # type: ignore[arg-type]
            progress_percent=round(100.0 * info.progress, 1),
            voice=info.voice_ref,
            voice_id=info.voice_id,
            language=info.language,
            format=info.format,
            speed=info.speed,
            text_chars=info.text_chars,
            attempts=info.attempts,
            duration_seconds=info.duration_seconds,
            result_bytes=info.result_bytes,
            result_blob=info.result_key,
            error=error,
            created_at=info.created_at,
            started_at=info.started_at,
            finished_at=info.finished_at,
            urls=urls,
        )


# -- streaming speech -----------------------------------------------------------------------


class SpeechCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    voice: str = Field(description="A voice id or name of yours, a sample key, or a stock voice.")
    language: str | None = None
    format: str = Field(
        "wav", description="wav (unknown-length header), pcm, mp3, opus, aac, flac."
    )
    speed: float = 1.0


# -- original routes ------------------------------------------------------------------------


class LegacyUploadOut(BaseModel):
    message: str
    user_id: str
    blob: str
    url: str
    voice_id: str


class LegacySynthesize(BaseModel):
    user_id: str | None = Field(None, description="Must be your owner name, or omitted.")
    text: str
    input_voice_gcs: str = Field(description="A blob from /upload-voice, or a voice id or name.")
    language: str | None = None
    format: str = "wav"
    speed: float = 1.0


class LegacySynthesizeOut(BaseModel):
    message: str
    job: str
    status: str
    result_blob: str
    result_url: str
    result_gs_url: str = Field(description="The original API's name for result_url.")
    proxy_stream_url: str
    job_url: str


# -- OpenAI-compatible ----------------------------------------------------------------------


class OpenAIVoiceRef(BaseModel):
    id: str


class OpenAISpeechCreate(BaseModel):
    model: str
    input: str
    voice: str | OpenAIVoiceRef
    response_format: str = "mp3"
    speed: float = 1.0
    stream_format: Literal["audio", "sse"] = "audio"
    instructions: str | None = Field(None, description="Accepted and ignored.")


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class OpenAIModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[OpenAIModel]


class OpenAIVoice(BaseModel):
    id: str
    name: str
    type: Literal["stock", "alias", "custom"]
    language: str | None = None


class OpenAIVoiceList(BaseModel):
    voices: list[OpenAIVoice]


# -- trust and safety -----------------------------------------------------------------------


class WatermarkPayload(BaseModel):
    hex: str = Field(description="The 16-bit payload, 4 hex digits.")
    server_id: int = Field(description="Id of the server that made the audio (0-255).")
    subject_hash: int = Field(description="Short hash of the job or stream id (0-255).")
    this_server: bool = Field(description="Whether this server's id is the one in the mark.")


class WatermarkDetection(BaseModel):
    detected: bool
    confidence: float = Field(description="1 minus the p-value of the score under 'no mark'.")
    score: float = Field(description="Detection score (z); the threshold is a setting.")
    payload: WatermarkPayload | None = Field(
        None, description="Present when the mark was found and its payload passed its check."
    )

    @classmethod
    def of(cls, found: Detection, settings: Settings) -> WatermarkDetection:
        payload = None
        if found.payload is not None:
            payload = WatermarkPayload(
                hex=f"{found.payload:04x}",
                server_id=found.payload >> 8,
                subject_hash=found.payload & 0xFF,
                this_server=found.payload >> 8 == server_id(settings),
            )
        return cls(
            detected=found.detected,
            confidence=found.confidence,
            score=found.score,
            payload=payload,
        )
