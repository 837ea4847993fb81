"""The engine registry: every known engine with its state, and which ones a process serves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from voiceclone.engines import (
    EngineUnavailable,
    UnknownEngine,
    check_served_engines,
    describe_engines,
    load_engine,
)
from voiceclone.settings import Settings


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(home=tmp_path / "home", models_dir=tmp_path / "no-models", **overrides)


def test_every_known_engine_is_described_without_loading_it(tmp_path: Path) -> None:
    engines = {info.name: info for info in describe_engines(_settings(tmp_path))}

    assert set(engines) == {"kokoro", "xtts"}
    kokoro, xtts = engines["kokoro"], engines["xtts"]
    assert kokoro.state == "missing"  # no model files in this models_dir
    assert "voiceclone models install" in kokoro.detail
    assert kokoro.sample_rate == 24_000 and kokoro.streams and "ko" in kokoro.languages
    assert xtts.state == "missing" and not xtts.ready
    assert "ko" in xtts.languages and len(xtts.languages) == 17
    assert "VOICECLONE_XTTS_DIR is not set" in xtts.detail
    assert "COQUI_TOS_AGREED=1" in xtts.detail


def test_the_xtts_entry_names_the_release_files_still_missing(tmp_path: Path) -> None:
    release = tmp_path / "xtts"
    release.mkdir()
    for name in ("model.pth", "config.json", "vocab.json"):
        (release / name).write_bytes(b"x")

    (xtts,) = [
        i for i in describe_engines(_settings(tmp_path, xtts_dir=release)) if i.name == "xtts"
    ]

    assert f"Missing from {release}: speakers_xtts.pth, SHA256SUMS." in xtts.detail


def test_engines_setting_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICECLONE_ENGINES", "kokoro, xtts")
    assert Settings().engines == ["kokoro", "xtts"]
    assert Settings(engines="kokoro").engines == ["kokoro"]


def test_a_process_refuses_engines_it_cannot_serve(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="'xtts' cannot run here"):
        check_served_engines(_settings(tmp_path, engines=["kokoro", "xtts"]))
    with pytest.raises(UnknownEngine, match="not among VOICECLONE_ENGINES"):
        check_served_engines(_settings(tmp_path, engine="xtts", engines=["kokoro"]))
    with pytest.raises(UnknownEngine, match="known engines: kokoro, xtts"):
        check_served_engines(_settings(tmp_path, engines=["kokoro", "piper"]))
    with pytest.raises(EngineUnavailable, match="VOICECLONE_XTTS_DIR is not set"):
        load_engine("xtts", _settings(tmp_path))
    check_served_engines(_settings(tmp_path))  # the default: kokoro alone


def test_serve_stops_at_once_with_the_reason(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VOICECLONE_HOME": str(tmp_path),
        "VOICECLONE_ENGINES": "kokoro,xtts",
    }
    result = subprocess.run(
        [sys.executable, "-m", "voiceclone.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "'xtts' cannot run here" in " ".join((result.stdout + result.stderr).split())
