"""Storage key layout, and the one check every caller-supplied key goes through.

Layout: ``voices/{owner}/{uuid}.{ext}`` for uploaded samples,
``consent/{owner}/{uuid}.{ext}`` for spoken-consent recordings and
``results/{owner}/{job_id}.{ext}`` for job results and ``results/{owner}/{job_id}-words.json``
for their word timings (deterministic per job, so a re-run overwrites rather than adds).
"""

from __future__ import annotations

import re
import uuid
from typing import Literal
from urllib.parse import unquote

from voiceclone.errors import InvalidRequest, NotFound

KeyKind = Literal["voices", "results", "consent"]

OWNER_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
EXTENSION_PATTERN = re.compile(r"[a-z0-9]{1,16}")
FILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}(\.[A-Za-z0-9]{1,16})?")
MAX_KEY_CHARS = 1024
_KEY_SEGMENTS = 3  # kind / owner / file name
_MESSAGE_KEY_CHARS = 120


def validate_owner(owner: str) -> str:
    """``owner`` if it is a valid owner name, else InvalidRequest."""
    if not OWNER_PATTERN.fullmatch(owner):
        raise InvalidRequest(
            f"Invalid owner name {owner[:80]!r}: use 1-63 lowercase letters, digits, '_' or '-',"
            " starting with a letter or digit.",
            code="invalid_owner",
        )
    return owner


def _validate_extension(ext: str) -> str:
    ext = ext.lower().lstrip(".")
    if not EXTENSION_PATTERN.fullmatch(ext):
        raise InvalidRequest(f"Invalid file extension {ext[:20]!r}.", code="invalid_extension")
    return ext


def new_voice_key(owner: str, ext: str) -> str:
    """A fresh key for an uploaded voice sample: ``voices/{owner}/{uuid4}.{ext}``."""
    return new_key("voices", owner, ext)


def new_key(kind: KeyKind, owner: str, ext: str) -> str:
    """A fresh key of ``kind``: ``{kind}/{owner}/{uuid4}.{ext}``."""
    return f"{kind}/{validate_owner(owner)}/{uuid.uuid4()}.{_validate_extension(ext)}"


def result_key(owner: str, job_id: str | uuid.UUID, ext: str) -> str:
    """The one key a job's result is stored under: ``results/{owner}/{job_id}.{ext}``."""
    return f"results/{validate_owner(owner)}/{uuid.UUID(str(job_id))}.{_validate_extension(ext)}"


def captions_key(owner: str, job_id: str | uuid.UUID) -> str:
    """Where a job's word timings are kept, beside its result."""
    return f"results/{validate_owner(owner)}/{uuid.UUID(str(job_id))}-words.json"


def owner_prefix(owner: str, kind: KeyKind) -> str:
    """``{kind}/{owner}/``: every key of that kind belonging to ``owner`` starts with it."""
    return f"{kind}/{validate_owner(owner)}/"


def checked_key(owner: str, key: str, kind: KeyKind) -> str:
    """The normalised ``key`` if it names an object of ``kind`` belonging to ``owner``.

    The key is URL-decoded once. Anything else — ``..`` or ``.`` segments, absolute paths,
    backslashes, empty segments, control characters, percent signs left after decoding
    (double encoding), another owner's prefix, another kind — raises NotFound, the same
    answer a missing object gets, so a probe learns nothing.
    """
    not_found = NotFound(f"No such {kind[:-1]}: {key[:_MESSAGE_KEY_CHARS]!r}.")
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS:
        raise not_found
    try:
        decoded = unquote(key, errors="strict")
    except UnicodeDecodeError:
        raise not_found from None
    if _has_unsafe_characters(decoded) or decoded.startswith("/"):
        raise not_found
    segments = decoded.split("/")
    if len(segments) != _KEY_SEGMENTS or any(s in ("", ".", "..") for s in segments):
        raise not_found
    key_kind, key_owner, file_name = segments
    if key_kind != kind or key_owner != owner or not FILE_NAME_PATTERN.fullmatch(file_name):
        raise not_found
    return decoded


def _has_unsafe_characters(text: str) -> bool:
    return any(ch in "%\\:" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)
