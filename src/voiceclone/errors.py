"""Errors a person can act on. Each carries a stable ``code`` and a readable message."""

from __future__ import annotations


class VoiceCloneError(Exception):
    code = "voiceclone_error"
    status = 400
    #: Seconds after which trying again makes sense (sent as ``Retry-After``), if any.
    retry_after: int | None = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidAudio(VoiceCloneError):
    """The uploaded recording cannot be used (not audio, too short, silent, clipped...)."""

    code = "invalid_audio"


class InvalidText(VoiceCloneError):
    """The text cannot be spoken (empty, unsupported language...)."""

    code = "invalid_text"


class UnsupportedFormat(VoiceCloneError):
    code = "unsupported_format"


class AssetsMissing(VoiceCloneError):
    """Model files are not installed or do not match their pinned checksums."""

    code = "assets_missing"
    status = 503


class InvalidRequest(VoiceCloneError):
    """A parameter is out of range or malformed (speed, owner name, voice name...)."""

    code = "invalid_request"


class NotFound(VoiceCloneError):
    """The thing asked for does not exist, or belongs to someone else (never said which)."""

    code = "not_found"
    status = 404


class Unauthorized(VoiceCloneError):
    code = "unauthorized"
    status = 401


class Forbidden(VoiceCloneError):
    code = "forbidden"
    status = 403


class Conflict(VoiceCloneError):
    """The request does not fit the current state (e.g. the job has not finished yet)."""

    code = "conflict"
    status = 409


class PayloadTooLarge(VoiceCloneError):
    code = "payload_too_large"
    status = 413


class TooManyRequests(VoiceCloneError):
    """Over a limit; ``retry_after`` (seconds) is sent as the ``Retry-After`` header."""

    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ServiceUnavailable(VoiceCloneError):
    """A part the service needs (database, object store) cannot be reached right now."""

    code = "unavailable"
    status = 503
    retry_after = 5


class StorageUnavailable(ServiceUnavailable):
    code = "storage_unavailable"

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "The object store cannot be reached right now; nothing was changed. "
            "Try again in a few seconds." + (f" ({detail[:200]})" if detail else "")
        )


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The database cannot be reached right now; nothing was changed. "
            "Try again in a few seconds."
        )
