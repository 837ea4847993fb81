"""All tunable settings in one place, read from ``VOICECLONE_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "voiceclone"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOICECLONE_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Cache for model assets.")

    # Engine
    engine: str = "kokoro"
    onnx_threads: int = Field(0, description="onnxruntime intra-op threads; 0 = all cores.")
    optimize_model: bool = Field(
        True, description="Run the CPU-optimised derivative of the Kokoro model (about 2x faster)."
    )
    first_chunk_max_chars: int = Field(
        60, description="The first chunk is cut at a clause boundary near this length."
    )
    chunk_max_chars: int = Field(300, description="Later chunks hold whole sentences up to this.")
    crossfade_ms: float = Field(5.0, description="Fade at chunk edges so joins do not click.")
    sentence_pause_ms: float = 120.0

    # Reference audio accepted for cloning
    min_speech_seconds: float = 3.0
    max_reference_seconds: float = 300.0
    clipping_max_fraction: float = Field(
        0.01, description="Reject references where more than this share of samples is clipped."
    )
    target_loudness_dbfs: float = -20.0

    # Cloning
    blend_top_k: int = Field(6, description="Stock voices considered for a cloned blend.")
    blend_search_steps: int = Field(0, description="Synthesize-and-embed refinement budget.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
