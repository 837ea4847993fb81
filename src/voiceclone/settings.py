"""All tunable settings in one place, read from ``VOICECLONE_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "voiceclone"


def comma_separated(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _renamed(name: str, old: str) -> AliasChoices:
    """A setting's names, and the ones it had before (still read)."""
    return AliasChoices(name, f"VOICECLONE_{name.upper()}", old, f"VOICECLONE_{old.upper()}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOICECLONE_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Where the service keeps its data (database, objects, keys) and models.",
    )
    models_dir: Path | None = Field(
        None,
        description="Model files, when not under home (a container image bakes them in).",
    )

    @property
    def models_home(self) -> Path:
        return self.models_dir or self.home

    @property
    def engine_queue(self) -> str:
        """The queue of this process's default engine: jobs for it, workers that hold it."""
        return self.queue_of(self.engine)

    def queue_of(self, engine: str) -> str:
        """The Celery queue that carries jobs for ``engine``."""
        return f"{self.queue_name}.{engine}"

    @property
    def queued_engines(self) -> list[str]:
        """Engines jobs may name: ``job_engines``, or else the engines this process serves."""
        return self.job_engines or self.engines

    @field_validator("engines", "job_engines", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return comma_separated(value) if isinstance(value, str) else value

    # Engines
    engine: str = Field("kokoro", description="The default engine (tts-1, /synthesize).")
    engines: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["kokoro"],
        description="Engines this process serves, comma-separated (e.g. kokoro,xtts).",
    )
    job_engines: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Engines jobs may name when Celery workers run them, comma-separated (default: "
            "VOICECLONE_ENGINES); an API replica need not hold them itself."
        ),
    )
    xtts_dir: Path | None = Field(
        None, description="The XTTS-v2 release files (model.pth, config.json, vocab.json, ...)."
    )
    xtts_half_precision: bool = Field(False, description="XTTS-v2 in float16 on CUDA.")
    xtts_stream_chunk_tokens: int = Field(
        20, ge=1, description="XTTS-v2 audio tokens per streamed chunk (fewer: sooner audio)."
    )
    onnx_threads: int = Field(0, description="onnxruntime intra-op threads; 0 = all cores.")
    device: Literal["cpu", "cuda", "auto"] = Field(
        "cpu", description="Where the engine runs: cpu, cuda, or auto (CUDA when available)."
    )
    optimize_model: bool = Field(
        True, description="Run the CPU-optimised derivative of the Kokoro model (about 2x faster)."
    )
    first_chunk_max_chars: int = Field(
        60, description="The first chunk is cut at a clause boundary near this length."
    )
    chunk_max_chars: int = Field(300, description="Later chunks hold whole sentences up to this.")
    crossfade_ms: float = Field(5.0, description="Fade at chunk edges so joins do not click.")
    sentence_pause_ms: float = 120.0
    question_rise_semitones: float = Field(
        4.0,
        ge=0,
        le=12,
        description=(
            "How far the pitch rises over the last syllable of a question, in languages "
            "whose questions rise (Korean); 0 leaves the model's own intonation."
        ),
    )

    # Reference audio accepted for cloning
    min_speech_seconds: float = Field(
        2.0, description="Seconds of detected speech a reference recording needs at least."
    )
    max_reference_seconds: float = 300.0
    clipping_max_fraction: float = Field(
        0.01, description="Reject references where more than this share of samples is clipped."
    )
    target_loudness_dbfs: float = -20.0

    # Cloning
    blend_top_k: int = Field(6, description="Stock voices considered for a cloned blend.")
    blend_search_steps: int = Field(0, description="Synthesize-and-embed refinement budget.")
    timbre_match_strength: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description=(
            "How far a cloned voice's spectral envelope is equalised toward the reference "
            "(0 turns timbre matching off; it costs one calibration sentence per new voice)."
        ),
    )
    timbre_match_phone_band_share: float = Field(
        0.75,
        ge=0.0,
        le=1.0,
        description=(
            "For a phone-band reference, timbre is matched only in the bands below this "
            "share of the band the recording holds, away from the line's roll-off "
            "(0: no timbre matching for phone-band references)."
        ),
    )
    pitch_match_strength: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description=(
            "How much of the gap between a cloned voice's median pitch and the reference's "
            "is closed by shifting the predicted pitch (0 leaves the model's own pitch; "
            "needs optimize_model)."
        ),
    )
    pitch_match_prior_seconds: float = Field(
        0.0,
        ge=0.0,
        description=(
            "Seconds of voicing in the references at which pitch matching closes half of "
            "what pitch_match_strength asks; references with less voicing are shifted less "
            "(0 closes all of it whatever the references' length)."
        ),
    )
    style_encoder_real_speech_gain: float = Field(
        1.0,
        ge=0.0,
        le=3.0,
        description=(
            "How far the style encoder follows the offset between real people's recordings "
            "and the engine's own speech, which moves a clone toward a human voice "
            "(1: as the encoder reads it; above 1 nearer the speaker by similarity and less "
            "clean; needs weights calibrated with calibrate-style-encoder)."
        ),
    )
    cloning_method: str = Field(
        "auto",
        description=(
            "style-encoder-v2, style-encoder-v1 (trained on clean speech only), "
            "stock-blend-v1, or auto (style-encoder-v2 for a phone-band reference and v1 "
            "for a full-band one, when their weights are installed, else the stock blend)."
        ),
    )

    # Service: metadata database and object store
    database_url: str = Field(
        "", description="SQLAlchemy URL; default sqlite:///{home}/voiceclone.db."
    )
    sqlite_busy_timeout_ms: int = Field(30_000, description="SQLite waits this long for a lock.")
    database_retry_seconds: float = Field(
        300.0,
        ge=0,
        description=(
            "A job's database steps are retried this long while the database is locked, "
            "restarting or failing over, before the job fails."
        ),
    )
    database_connect_timeout_seconds: int = Field(
        5, gt=0, description="How long a new database connection may take (Postgres)."
    )
    storage_url: str = Field(
        "",
        description=(
            "file:///abs/path, s3://bucket[/prefix] or gs://bucket[/prefix]; "
            "default file://{home}/objects."
        ),
    )
    s3_endpoint: str | None = Field(
        None, description="S3-compatible endpoint URL (MinIO, R2...); http:// is allowed."
    )
    s3_region: str = "us-east-1"
    gcs_endpoint: str | None = Field(
        None, description="A GCS emulator's URL (anonymous access); default: Google's."
    )
    gcs_project: str | None = Field(None, description="The GCP project; default: from credentials.")
    storage_part_bytes: int = Field(
        5 * 1024 * 1024, description="Part size of multipart uploads (S3's minimum is 5 MiB)."
    )
    storage_gc_grace_seconds: float = Field(
        3600.0,
        ge=0,
        description=(
            "The storage janitor spares objects written this recently: their rows may not "
            "be committed yet."
        ),
    )
    storage_gc_interval_seconds: float = Field(
        6 * 3600.0,
        ge=0,
        description="How often the service runs the storage janitor (0: never; see "
        "`voiceclone storage gc`).",
    )
    storage_timeout_seconds: int = Field(
        30, gt=0, description="Longest wait for one object-store request."
    )
    storage_retry_seconds: float = Field(
        5.0, gt=0, description="How long a failing object-store request is retried."
    )
    storage_upload_concurrency: int = Field(
        2, description="Parts uploaded at once; each holds one part in memory."
    )

    # Operations: logs and metrics
    log_format: Literal["", "json", "text"] = Field(
        "", description="json (Cloud Logging) or text; default json unless on a terminal."
    )
    log_level: str = Field("INFO", description="The least severe level logged.")
    metrics_token: str = Field(
        "", description="If set, GET /metrics needs 'Authorization: Bearer <this token>'."
    )
    worker_metrics_port: int = Field(
        0, ge=0, le=65535, description="A worker serves /metrics on this port (0: none)."
    )

    # Service: requests and jobs
    max_upload_bytes: int = Field(50 * 1024 * 1024, description="Largest accepted upload.")
    voice_analysis_slots: int = Field(
        2,
        ge=1,
        description=(
            "Uploads decoded and analysed at once (voice creation, added recordings); the "
            "others wait with their files on disk, so a burst does not multiply memory."
        ),
    )
    max_request_bytes: int = Field(
        2 * 1024 * 1024,
        gt=0,
        description=(
            "Largest request body other than a multipart upload (JSON): larger ones are "
            "refused (413) before they are read."
        ),
    )
    max_job_chars: int = Field(100_000, description="Longest text a job may speak.")
    max_voice_name_chars: int = 100
    min_speed: float = 0.25
    max_speed: float = 4.0
    malloc_arenas: int = Field(
        2,
        ge=0,
        description=(
            "The most malloc arenas the process uses (glibc); 0: the C library's default. "
            "With one arena per thread, memory creeps up under steady load."
        ),
    )
    worker_threads: int = Field(1, description="Jobs synthesized at once by the embedded pool.")
    queue_url: str = Field(
        "",
        description=(
            "Empty: jobs run in the server's own worker pool. A Celery broker URL "
            "(amqp://user:pass@host:5672// or redis://host:6379/0): API replicas only send "
            "jobs there, and `voiceclone worker` processes, which own the engine, run them. "
            "RabbitMQ hands a dead worker's job to another at once; Redis only after "
            "queue_visibility_timeout_s."
        ),
    )
    queue_name: str = Field(
        "voiceclone", description="Celery queues carry jobs as <queue_name>.<engine>."
    )
    queue_visibility_timeout_seconds: int = Field(
        3600,
        validation_alias=_renamed("queue_visibility_timeout_seconds", "queue_visibility_timeout_s"),
        description=(
            "Seconds before the broker hands a job whose worker vanished to another worker "
            "(keep it above the longest job)."
        ),
    )
    max_job_attempts: int = Field(
        3, description="A job interrupted this many times (crashes) is failed, not resumed."
    )
    job_progress_interval_seconds: float = Field(
        0.5, description="A running job writes its progress at most this often."
    )
    api_key_touch_seconds: float = Field(
        60.0, description="A key's last_used_at is written at most this often."
    )

    # Trust and safety: consent
    consent: Literal["attest", "spoken", "off"] = Field(
        "attest",
        description=(
            "attest: voice creation needs consent=true; spoken: the speaker reads a one-time "
            "consent sentence that is checked; off: consent is handled elsewhere."
        ),
    )

    consent_challenge_ttl_seconds: int = Field(
        600, gt=0, description="How long a spoken-consent challenge can be used."
    )
    consent_max_cer: float = Field(
        0.25, ge=0.0, le=1.0, description="Most characters the consent reading may get wrong."
    )
    consent_speaker_threshold: float = Field(
        0.65,
        ge=-1.0,
        le=1.0,
        description="Least d-vector cosine between the consent reading and the voice samples.",
    )
    consent_text_en: str = Field(
        "I agree, of my own free will, to the cloning of my voice. Confirmation code {code}.",
        description="The English consent sentence ({code}: the one-time code).",
    )
    consent_text_ko: str = Field(
        "저는 제 자유로운 의사로 제 목소리의 복제에 동의합니다. 확인 코드 {code}.",
        description="The Korean consent sentence ({code}: the one-time code).",
    )

    # Capacity: live streams are admitted only while the engine can keep them in real time
    live_admission: bool = Field(
        True, description="Refuse a live stream (429 server_busy) that the engine cannot keep up."
    )
    live_capacity: float = Field(
        0.0,
        ge=0,
        description=(
            "Seconds of audio per second the engine can make (0: measured at start and "
            "while running)."
        ),
    )
    live_headroom: float = Field(
        0.6,
        ge=0,
        le=4,
        description=(
            "Share of capacity kept spare, e.g. 0.6 for 60 %: streams that start together "
            "all need their first chunks at once, before any has much audio in hand."
        ),
    )
    busy_retry_after_seconds: int = Field(
        2,
        validation_alias=_renamed("busy_retry_after_seconds", "busy_retry_after_s"),
        ge=1,
        description="Retry-After of a server_busy refusal.",
    )
    ws_idle_seconds: float = Field(
        20.0,
        gt=0,
        description=(
            "A live WebSocket that sends no text for this long, while none of its audio is "
            "being made, is closed with an error and gives its live place back."
        ),
    )
    engine_slots: int = Field(
        2,
        ge=1,
        description=(
            "Chunks an engine makes at once; the others wait, most urgent first (a stream "
            "about to run out of audio, first chunks, then the live stream nearest to "
            "running out, then jobs). Kokoro makes a lone synthesis's chunks on all "
            "onnx_threads and, while several are under way, each chunk on "
            "onnx_threads / engine_slots threads: a third more audio in all on 2 cores."
        ),
    )
    job_slack_seconds: float = Field(
        10.0,
        validation_alias=_renamed("job_slack_seconds", "job_slack_s"),
        ge=0,
        description="A job's chunk goes before live streams holding more audio than this.",
    )

    # Trust and safety: limits per API key (a key may set its own; 0: unlimited)
    key_requests_per_minute: int = Field(600, ge=0, description="Requests per minute per key.")
    key_chars_per_day: int = Field(
        1_000_000, ge=0, description="Characters of text spoken per key per day."
    )
    key_max_streams: int = Field(4, ge=0, description="Live streams open at once per key.")
    key_max_voices: int = Field(100, ge=0, description="Voices an owner may keep.")
    limits_storage_url: str = Field(
        "",
        description=(
            "Where the counters live (a limits storage URL); default: the Redis of "
            "VOICECLONE_QUEUE_URL when it is one (shared by replicas), else this process."
        ),
    )

    # Trust and safety: watermark
    watermark: Literal["on", "off"] = Field(
        "on", description="Mark everything the service makes as synthetic (off: operators only)."
    )
    watermark_strength_db: float = Field(
        2.5, gt=0.0, le=6.0, description="How far the mark raises or lowers each chip (dB)."
    )
    watermark_key: str = Field(
        "voiceclone-v1",
        description="Key of the mark's pattern; the default lets any voiceclone detect it.",
    )
    watermark_threshold: float = Field(
        5.0,
        description=(
            "Detection score (a z-value; the best of 256 alignments) above which a recording "
            "counts as marked: 5.0 keeps false positives near 1 in 10,000."
        ),
    )
    watermark_detect_max_seconds: float = Field(
        600.0, description="Longest recording /v1/watermark/detect reads (3 s are enough)."
    )
    server_id: int | None = Field(
        None, ge=0, le=255, description="This server's id in the mark; default: from the secret."
    )

    # Sign-in with OpenID Connect ID tokens (Firebase Auth, Google), besides API keys
    oidc_issuer: str = Field(
        "", description="Accept ID tokens from this issuer (e.g. https://accounts.google.com)."
    )
    oidc_audience: str = Field("", description="The audience (aud) the tokens must carry.")
    oidc_jwks_url: str = Field(
        "", description="The issuer's keys; default: from its OpenID configuration."
    )
    oidc_jwks_file: Path | None = Field(None, description="The issuer's keys from a file.")
    oidc_owner_claim: str = Field("sub", description="The claim that names the owner.")

    # Signed links
    signing_key: str = Field(
        "", description="Signs audio links; default: a secret made once under home."
    )
    previous_signing_key: str = Field(
        "", description="The key before a rotation: its links stay valid for one link TTL."
    )
    link_ttl_seconds: int = Field(24 * 3600, gt=0, description="How long a signed link works.")
    session_ttl_seconds: int = Field(
        12 * 3600, gt=0, description="How long a browser stays signed in."
    )

    @model_validator(mode="after")
    def _default_locations(self) -> Settings:
        """Put the database and the objects under ``home`` unless told otherwise."""
        home = self.home.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{home / 'voiceclone.db'}"
        if not self.storage_url:
            self.storage_url = (home / "objects").as_uri()
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
