"""Checks shared by every way of asking for speech (jobs, streams, the OpenAI route), and
the one definition of "blank" that the API's schema (a pattern) and the server share."""

from __future__ import annotations

import re

from voiceclone.errors import InvalidRequest, InvalidText
from voiceclone.settings import get_settings

#: Whitespace as both Python and JSON Schema (ECMA-262 ``\\s``) count it: text made only of
#: these is blank, names are trimmed of them.
BLANK_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
#: What the schema asks of text and names: at least one character that is not blank.
NOT_BLANK_PATTERN = f"[^{BLANK_CHARS}]"
#: Control characters (C0, DEL, C1) and line separators: a name holds none inside it.
CONTROL_CHARS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
#: What the schema asks of names: something not blank, and no control characters but for
#: blank ones at the edges (which are trimmed).
NAME_PATTERN = (
    f"^[{BLANK_CHARS}]*[^{BLANK_CHARS}{CONTROL_CHARS}][^{CONTROL_CHARS}]*[{BLANK_CHARS}]*$"
)
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


_BLANK = re.compile(f"[{BLANK_CHARS}]*")
_EDGES = re.compile(f"^[{BLANK_CHARS}]+|[{BLANK_CHARS}]+$")


def is_blank(text: str) -> bool:
    return _BLANK.fullmatch(text) is not None


def trimmed(text: str) -> str:
    """``text`` without blank characters at either end."""
    return _EDGES.sub("", text)


def check_text(text: str, max_chars: int | None = None) -> str:
    """``text`` if it is non-blank and at most ``max_chars`` (default: the job limit)."""
    limit = max_chars or get_settings().max_job_chars
    if not text or is_blank(text):
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
