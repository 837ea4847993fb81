"""Errors a person can act on. Each carries a stable ``code`` and a readable message."""

from __future__ import annotations


class VoiceCloneError(Exception):
    code = "voiceclone_error"
    status = 400

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
