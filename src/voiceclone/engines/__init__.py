"""Speech engines behind one protocol (see ``base.Engine``), one package per engine.

Each engine package exposes ``describe(settings) -> EngineInfo`` (cheap: no model is
loaded) and ``load(settings) -> Engine``. ``VOICECLONE_ENGINES`` chooses which ones a
process serves; ``VOICECLONE_ENGINE`` is the default among them.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping, Sequence
from types import ModuleType

from voiceclone.engines.base import Engine, EngineInfo, VoiceProfile, VoiceSample
from voiceclone.errors import InvalidRequest, VoiceCloneError
from voiceclone.settings import Settings, get_settings

__all__ = [
    "Engine",
    "EngineInfo",
    "VoiceProfile",
    "VoiceSample",
    "check_served_engines",
    "describe_engines",
    "engine_info",
    "engine_names",
    "held_engine",
    "load_engine",
    "load_served_engine",
    "queued_engine",
]

ENGINE_PACKAGES = {
    "kokoro": "voiceclone.engines.kokoro",
    "xtts": "voiceclone.engines.xtts",
}


class UnknownEngine(InvalidRequest):
    code = "engine_not_found"


class EngineUnavailable(VoiceCloneError):
    code = "engine_unavailable"
    status = 503


def engine_names() -> tuple[str, ...]:
    return tuple(ENGINE_PACKAGES)


def _package(name: str) -> ModuleType:
    if name not in ENGINE_PACKAGES:
        raise UnknownEngine(
            f"Unknown engine {name!r}; known engines: {', '.join(ENGINE_PACKAGES)}."
        )
    return importlib.import_module(ENGINE_PACKAGES[name])


def describe_engines(settings: Settings | None = None) -> list[EngineInfo]:
    """Every known engine with its state on this machine."""
    chosen = settings or get_settings()
    return [_package(name).describe(chosen) for name in ENGINE_PACKAGES]


def engine_info(engine: Engine, settings: Settings | None = None) -> EngineInfo:
    """What a loaded engine is; ready, since it is loaded."""
    if engine.name in ENGINE_PACKAGES:
        described = _package(engine.name).describe(settings or get_settings())
        result: EngineInfo = dataclasses.replace(described, state="ready", detail="")
        return result
    return EngineInfo(
        name=engine.name,
        version=engine.version,
        languages=(),
        sample_rate=engine.sample_rate,
        device="cpu",
        streams=True,
        state="ready",
    )


def load_engine(name: str | None = None, settings: Settings | None = None) -> Engine:
    """The engine named (default: the settings' default engine), with its model loaded."""
    chosen = settings or get_settings()
    result: Engine = _package(name or chosen.engine).load(chosen)
    return result


def held_engine(held: Mapping[str, Engine], default: Engine, name: str | None) -> Engine:
    """The engine a request names (None: the default) among those this process holds."""
    if not name:
        return default
    if name in held:
        return held[name]
    available = ", ".join(held)
    if name in ENGINE_PACKAGES:
        raise UnknownEngine(
            f"This server does not speak with the {name!r} engine; it holds: {available}."
        )
    raise UnknownEngine(f"Unknown engine {name!r}; this server speaks with: {available}.")


def queued_engine(
    held: Mapping[str, Engine], default: Engine, name: str | None, queued: Sequence[str]
) -> tuple[str, Engine | None]:
    """The engine a job names: one this process holds (with it), or one of ``queued``
    (``VOICECLONE_JOB_ENGINES``) that workers elsewhere run (with None)."""
    if not name or name in held:
        engine = held_engine(held, default, name)
        return engine.name, engine
    if name in queued and name in ENGINE_PACKAGES:
        return name, None
    available = ", ".join(dict.fromkeys([*held, *queued]))
    raise UnknownEngine(f"Jobs here cannot use the {name!r} engine; available: {available}.")


def check_served_engines(settings: Settings) -> None:
    """Refuse (with what to do) unless every engine in ``VOICECLONE_ENGINES`` is known and
    the default is among them: a process then fails at start, not on its first request."""
    if settings.engine not in settings.engines:
        raise UnknownEngine(
            f"The default engine {settings.engine!r} is not among VOICECLONE_ENGINES "
            f"({', '.join(settings.engines)})."
        )
    for name in settings.job_engines:
        _package(name)
    for name in settings.engines:
        info = _package(name).describe(settings)
        if not info.ready and name != settings.engine:
            raise EngineUnavailable(f"Engine {name!r} cannot run here: {info.detail}")


def load_served_engine(settings: Settings) -> Engine:
    """The default engine, after :func:`check_served_engines`."""
    check_served_engines(settings)
    return load_engine(settings.engine, settings)
