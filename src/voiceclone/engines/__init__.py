"""Speech engines behind one protocol (see ``base.Engine``)."""

from __future__ import annotations

from voiceclone.engines.base import Engine, VoiceProfile, VoiceSample

__all__ = ["Engine", "VoiceProfile", "VoiceSample", "load_engine"]


def load_engine(name: str | None = None) -> Engine:
    """The engine named in settings (or ``name``), with its model loaded."""
    from voiceclone.settings import get_settings

    chosen = name or get_settings().engine
    if chosen == "kokoro":
        from voiceclone.engines.kokoro import KokoroEngine

        return KokoroEngine()
    raise ValueError(f"Unknown engine {chosen!r}; available: kokoro")
