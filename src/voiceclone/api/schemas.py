"""Request and response bodies of the HTTP API (what ``/docs`` shows)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from voiceclone.audio.encode import FORMATS
from voiceclone.instance import server_id
from voiceclone.safety.watermark import Detection
from voiceclone.services.jobs import JobInfo
from voiceclone.services.validation import NAME_PATTERN, NOT_BLANK_PATTERN
from voiceclone.services.voices import VoiceInfo
from voiceclone.settings import Settings
from voiceclone.text.language import AUTO, language_names

if TYPE_CHECKING:  # enums built from the formats and languages this server knows
    AudioFormat = str
    LanguageName = str
else:
    #: What ``format`` may be, everywhere.
    AudioFormat = Literal[tuple(FORMATS)]
    #: Language codes, their aliases (lower case) and "auto".
    LanguageName = Literal[(*language_names(), AUTO)]
#: Speed bounds (the settings' defaults; the server checks the configured ones).
MIN_SPEED, MAX_SPEED = 0.25, 4.0


def _text(description: str, max_chars: int | None = None) -> Any:
    """Text to speak: not blank. The most it may hold is in the description and, for a
    configurable limit, in the OpenAPI document (the server checks it, with a 400)."""
    extra: dict[str, Any] | None = {"maxLength": max_chars} if max_chars else None
    return Field(
        min_length=1, pattern=NOT_BLANK_PATTERN, description=description, json_schema_extra=extra
    )


VoiceName = Annotated[str, Field(min_length=1, max_length=1024, pattern=NOT_BLANK_PATTERN)]


#: Form fields of voice uploads, as OpenAPI schemas.
VOICE_NAME_FIELD = {
    "type": "string",
    "minLength": 1,
    "maxLength": 100,
    "pattern": NAME_PATTERN,
}
LANGUAGE_FIELD = {
    "type": "string",
    "enum": [*language_names(), AUTO, ""],
    "description": "The voice's language; empty (as an HTML form sends it) or auto: detected.",
}


def _voice_ref(description: str) -> Any:
    return Field(min_length=1, max_length=1024, pattern=NOT_BLANK_PATTERN, description=description)


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


class FromAttributes(BaseModel):
    """A representation read from a service's record by attribute name."""

    model_config = ConfigDict(from_attributes=True)


class WithLinks:
    """A record's attributes plus those only its representation has (signed links)."""

    def __init__(self, record: object, **links: object) -> None:
        self._record = record
        self._links = links

    def __getattr__(self, name: str) -> object:
        if name in self._links:
            return self._links[name]
        return getattr(self._record, name)


class VoiceQualityOut(FromAttributes):
    speech_seconds: float = Field(description="Seconds of speech found in the recordings.")
    snr_db: float = Field(description="Speech over background noise, in dB.")
    similarity: float | None = Field(
        description="The clone's own speech against the recordings (speaker-embedding "
        "cosine, 0-1); null when the engine does not measure it."
    )
    bandwidth_hz: float = Field(description="Up to where the recordings hold sound.")
    advice: str = Field(description="What would make the clone closer.")


class VoiceOut(FromAttributes):
    id: str
    name: str
    language: str | None
    method: str
    sample_seconds: float
    samples: list[str] = Field(
        validation_alias=AliasChoices("samples", "sample_keys"),
        description="Storage keys of the uploaded recordings.",
    )
    sample_urls: list[str] = Field(description="Signed links that play the recordings.")
    preview_url: str = Field(description="A signed link that speaks a short preview.")
    quality: VoiceQualityOut | None = Field(
        None, description="How good the recordings are, and advice (null for older voices)."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, info: VoiceInfo, sample_urls: list[str], preview_url: str) -> VoiceOut:
        return cls.model_validate(WithLinks(info, sample_urls=sample_urls, preview_url=preview_url))


class VoiceList(BaseModel):
    voices: list[VoiceOut]


class VoiceRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        min_length=1, max_length=100, pattern=NAME_PATTERN, description="The new name."
    )


# -- jobs -----------------------------------------------------------------------------------


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = _text("Up to 100,000 characters (VOICECLONE_MAX_JOB_CHARS).")
    voice: str = _voice_ref("A voice id or name of yours, a sample key, or a stock voice.")
    language: LanguageName | None = Field(None, description="Language code; default: detect.")
    format: AudioFormat = Field("wav", description="The audio format of the result.")
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, description="0.25 to 4.")
    engine: str | None = Field(
        None,
        description="The engine to speak with (GET /v1/models); default: the server's default.",
    )


class JobError(FromAttributes):
    code: str
    message: str


class JobUrls(BaseModel):
    job: str
    audio: str


class JobOut(FromAttributes):
    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    queue_position: int | None = Field(
        description=(
            "While queued: 1 when this is the next job its engine starts, 2 when one job "
            "is ahead of it, and so on (all owners' jobs count, oldest first); null once "
            "it has started or finished."
        )
    )
    progress_percent: float = Field(validation_alias=AliasChoices("progress_percent", "progress"))
    voice: str = Field(validation_alias=AliasChoices("voice", "voice_ref"))
    voice_id: str | None
    language: str | None
    format: str
    speed: float
    engine: str | None
    text_chars: int
    text_start: str = Field(description="The text's first words (at most 80 characters).")
    attempts: int
    duration_seconds: float | None
    result_bytes: int | None
    result_blob: str | None = Field(validation_alias=AliasChoices("result_blob", "result_key"))
    error: JobError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    urls: JobUrls

    @field_validator("progress_percent", mode="before")
    @classmethod
    def _as_percent(cls, progress: float) -> float:
        """The record counts progress from 0 to 1."""
        return round(100.0 * progress, 1)

    @classmethod
    def of(cls, info: JobInfo, urls: JobUrls) -> JobOut:
        return cls.model_validate(WithLinks(info, urls=urls))


class JobList(BaseModel):
    jobs: list[JobOut]


# -- streaming speech -----------------------------------------------------------------------


class SpeechCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = _text("Up to 100,000 characters (VOICECLONE_MAX_JOB_CHARS).")
    voice: str = _voice_ref("A voice id or name of yours, a sample key, or a stock voice.")
    engine: str | None = Field(
        None, description="An engine this server holds (GET /v1/models); default: its default."
    )
    language: LanguageName | None = None
    format: AudioFormat = Field(
        "wav", description="wav (unknown-length header), pcm, mp3, opus, aac, flac."
    )
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED)
    stream_format: Literal["audio", "sse"] = Field(
        "audio",
        description=(
            "audio: the audio bytes; sse: server-sent events speech.audio.delta (base64 "
            "audio), speech.word (word timings) and speech.audio.done."
        ),
    )


# -- original routes ------------------------------------------------------------------------


class LegacyUploadOut(BaseModel):
    message: str
    user_id: str
    blob: str
    gcs_url: str = Field(description="The sample's storage URL (gs://… on GCS, s3://…, file://…).")
    url: str = Field(description="A signed link that plays the sample.")
    voice_id: str


class LegacySynthesize(BaseModel):
    user_id: str | None = Field(None, description="Must be your owner name, or omitted.")
    text: str = _text("Up to 100,000 characters (VOICECLONE_MAX_JOB_CHARS).")
    input_voice_gcs: str = _voice_ref("A blob from /upload-voice, or a voice id or name.")
    language: LanguageName | None = None
    format: AudioFormat = "wav"
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED)


class LegacySynthesizeOut(BaseModel):
    message: str
    job: str
    status: str
    result_blob: str
    result_url: str = Field(description="A signed link to the job's audio.")
    result_gs_url: str = Field(
        description=(
            "The result's storage URL (gs://… on GCS, s3://…); with local storage, a signed "
            "link like result_url."
        )
    )
    proxy_stream_url: str = Field(
        description="A signed path, /results/stream?blob=…: BASE_URL + this plays it."
    )
    job_url: str


# -- OpenAI-compatible ----------------------------------------------------------------------


class OpenAIVoiceRef(BaseModel):
    id: str = _voice_ref("A voice id or name.")


class OpenAISpeechCreate(BaseModel):
    model: str = Field(
        min_length=1, description="The engine's name or an OpenAI model name (tts-1...)."
    )
    input: str = _text("Up to 4,096 characters, as OpenAI's API.", max_chars=4096)
    voice: VoiceName | OpenAIVoiceRef = Field(
        description="A voice id or name, a stock voice or an OpenAI name."
    )
    response_format: AudioFormat = "mp3"
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED)
    stream_format: Literal["audio", "sse"] = "audio"
    instructions: str | None = Field(None, description="Accepted and ignored.")


class EngineState(BaseModel):
    """An engine behind a model id, and whether it can speak here."""

    name: str
    version: str
    state: Literal["ready", "missing", "unavailable"]
    served: bool = Field(description="This server speaks with it now.")
    languages: list[str]
    sample_rate: int
    device: str
    streams: bool
    detail: str = Field("", description="When not ready: what is missing and how to get it.")
    licence: str = ""


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    engine: EngineState | None = None


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


# -- admin ----------------------------------------------------------------------------------


class LimitsOut(FromAttributes):
    requests_per_minute: int | None = Field(description="None: the server's default; 0: none.")
    chars_per_day: int | None
    max_streams: int | None
    max_voices: int | None


class AdminKey(FromAttributes):
    id: str
    owner: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    admin: bool = Field(validation_alias=AliasChoices("admin", "is_admin"))
    limits: LimitsOut
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class AdminKeyList(BaseModel):
    keys: list[AdminKey]


class UsageOut(FromAttributes):
    key_id: str
    owner: str
    prefix: str
    limits: LimitsOut = Field(description="Effective limits (0: unlimited).")
    requests_last_minute: int
    chars_today: int
    streams_open: int
    voices: int


class UsageList(BaseModel):
    usage: list[UsageOut]


class AuditOut(FromAttributes):
    at: datetime
    action: str
    owner: str
    actor_key_id: str | None
    target: str | None
    detail: dict[str, object]


class AuditList(BaseModel):
    events: list[AuditOut]


class ConsentOut(BaseModel):
    """What was stored about the speaker's consent (fields depend on the mode)."""

    model_config = ConfigDict(extra="allow")
    mode: str | None = Field(None, description="attest, spoken or off; None: not recorded.")

    @classmethod
    def of(cls, evidence: dict[str, object] | None) -> ConsentOut:
        return cls(**(evidence or {}))


class ConsentChallengeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["en", "ko"] = Field(description="The language of the sentence.")


class ConsentChallengeOut(BaseModel):
    id: str
    text: str = Field(description="Read this aloud, code included, in the consent recording.")
    expires_at: datetime


class ConsentPolicy(BaseModel):
    mode: Literal["attest", "spoken", "off"]
    statement_version: str | None = None
    statement: str | None = Field(None, description="What consent=true confirms (attest).")


# -- web session ----------------------------------------------------------------------------


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_key: str = Field(min_length=1, max_length=200, description="An API key (vc_...).")


class SessionOut(BaseModel):
    owner: str
    csrf_token: str = Field(description="Send it as X-CSRF-Token on every state change.")
    expires_at: datetime
