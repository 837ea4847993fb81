"""Shared fixtures: the installed model files (``scripts/setup.sh --eval`` puts them in
$VOICECLONE_HOME), one loaded engine per session, and real reference voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voiceclone.assets.paths import AssetPaths


@pytest.fixture(scope="session")
def asset_paths() -> AssetPaths:
    from voiceclone.assets.paths import require_engine_assets

    return require_engine_assets()


@pytest.fixture(scope="session")
def engine(asset_paths: AssetPaths):
    from voiceclone.engines.kokoro import KokoroEngine

    return KokoroEngine(asset_paths)


@pytest.fixture(scope="session")
def reference_voices(asset_paths: AssetPaths) -> dict[str, Path]:
    """Real human recordings (English speakers), by speaker name."""
    files = sorted(asset_paths.refvoices_dir.glob("en_*.wav"))
    assert files, "reference voices missing: run scripts/setup.sh --eval"
    return {f.stem.removeprefix("en_"): f for f in files}


@pytest.fixture(scope="session")
def transcribe(asset_paths: AssetPaths):
    """Speech recognition with faster-whisper (base model) on 16 kHz float audio."""
    from faster_whisper import WhisperModel

    model = WhisperModel(str(asset_paths.whisper_dir), device="cpu", compute_type="int8")

    def run(samples: np.ndarray, language: str = "en") -> str:
        segments, _ = model.transcribe(samples, language=language, beam_size=1)
        return " ".join(segment.text.strip() for segment in segments)

    return run
