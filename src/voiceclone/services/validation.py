"""Checks shared by every way of asking for speech (jobs, streams, the OpenAI route)."""

from __future__ import annotations

from voiceclone.errors import InvalidRequest, InvalidText
from voiceclone.settings import get_settings


def check_text(text: str, max_chars: int | None = None) -> str:
    """``text`` if it is non-blank and at most ``max_chars`` (default: the job limit)."""
    limit = max_chars or get_settings().max_job_chars
    if not text or not text.strip():
        raise InvalidText("There is no text to speak.", code="empty_text")
    if len(text) > limit:
        raise InvalidText(
            f"The text is {len(text):,} characters long; at most {limit:,} are allowed here.",
            code="text_too_long",
        )
    return text


def check_speed(speed: float) -> float:
    settings = get_settings()
    if not settings.min_speed <= speed <= settings.max_speed:
        raise InvalidRequest(
            f"Speed must be between {settings.min_speed} and {settings.max_speed}; got {speed}.",
            code="invalid_speed",
        )
    return float(speed)
