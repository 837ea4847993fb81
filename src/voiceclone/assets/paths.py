"""Where installed model files live, and cheap checks that they are there.

The checks here never re-hash model files: they trust the verification stamp that
:func:`voiceclone.assets.install.install_assets` writes after hashing a file, as long as
the file's size and modification time are still the ones recorded. A file that was
changed, replaced or copied without its timestamps counts as missing until
``voiceclone models install`` has verified it again (which downloads nothing if the
file is intact).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceclone.assets.manifest import (
    ASR,
    EMBEDDER_FILE,
    ENGINE,
    EVAL,
    KOKORO_MODEL_FILE,
    KOKORO_VOICE_SHA256,
    MANIFEST,
    REFERENCE_VOICE_PINS,
    REFERENCE_VOICE_SUFFIX,
    REFERENCE_VOICES_DIR,
    RESEMBLYZER_WEIGHTS_FILE,
    VAD_FILE,
    VOICE_SUFFIX,
    VOICES_DIR,
    VOSK_KOREAN_DIR,
    WHISPER_DIR,
    AssetGroup,
    InstalledFile,
    Manifest,
)
from voiceclone.errors import AssetsMissing
from voiceclone.settings import get_settings

STAMP_FILE = ".verified.json"
STAMP_FORMAT = 1
INSTALL_COMMAND = "voiceclone models install"
MISSING_FILES_SHOWN = 5


def resolve_home(home: Path | str | None = None) -> Path:
    """The asset home: ``home`` if given, else ``VOICECLONE_MODELS_DIR``, else
    ``VOICECLONE_HOME``."""
    chosen = get_settings().models_home if home is None else home
    return Path(chosen).expanduser().absolute()


@dataclass(frozen=True)
class AssetPaths:
    """Paths of the installed model files under one asset home."""

    home: Path

    @classmethod
    def from_home(cls, home: Path | str | None = None) -> AssetPaths:
        return cls(resolve_home(home))

    @property
    def kokoro_model(self) -> Path:
        return self.home / KOKORO_MODEL_FILE

    @property
    def voices_dir(self) -> Path:
        return self.home / VOICES_DIR

    def voice_file(self, name: str) -> Path:
        """The style table of stock voice ``name`` (510×256 float32, little-endian)."""
        if name not in KOKORO_VOICE_SHA256:
            raise ValueError(f"Unknown stock voice {name!r}; see AssetPaths.stock_voice_names().")
        return self.voices_dir / f"{name}{VOICE_SUFFIX}"

    @staticmethod
    def stock_voice_names() -> tuple[str, ...]:
        """Names of the Kokoro stock voices (e.g. ``af_heart``), sorted."""
        return tuple(sorted(KOKORO_VOICE_SHA256))

    @property
    def embedder(self) -> Path:
        """Speaker embedder (d-vector) ONNX model."""
        return self.home / EMBEDDER_FILE

    @property
    def vad_model(self) -> Path:
        """Silero voice-activity detector (ONNX, 16 kHz)."""
        return self.home / VAD_FILE

    @property
    def whisper_dir(self) -> Path:
        """A faster-whisper model directory ("base"); pass it as the model name."""
        return self.home / WHISPER_DIR

    @property
    def refvoices_dir(self) -> Path:
        return self.home / REFERENCE_VOICES_DIR

    def refvoice_file(self, name: str) -> Path:
        """A real human reference recording, e.g. ``en_susan`` or ``de_Elli``."""
        if name not in REFERENCE_VOICE_PINS:
            raise ValueError(f"Unknown reference voice {name!r}; see refvoice_names().")
        return self.refvoices_dir / f"{name}{REFERENCE_VOICE_SUFFIX}"

    @staticmethod
    def refvoice_names() -> tuple[str, ...]:
        return tuple(sorted(REFERENCE_VOICE_PINS))

    @property
    def resemblyzer_weights(self) -> Path:
        return self.home / RESEMBLYZER_WEIGHTS_FILE

    @property
    def vosk_korean_dir(self) -> Path:
        """Vosk's Korean model directory (a second Korean recogniser for benchmarks)."""
        return self.home / VOSK_KOREAN_DIR


@dataclass
class VerificationStamp:
    """Remembers which files were hashed and matched, keyed by their size and mtime.

    Stored as JSON in ``<home>/.verified.json``:
    ``{"format": 1, "files": {"<relative path>": {"sha256", "size", "mtime_ns"}}}``.
    """

    home: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.home / STAMP_FILE

    @classmethod
    def load(cls, home: Path) -> VerificationStamp:
        """The stamp of ``home``; an absent or unreadable stamp is simply empty."""
        try:
            data = json.loads((home / STAMP_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(home)
        if not isinstance(data, dict) or data.get("format") != STAMP_FORMAT:
            return cls(home)
        files = data.get("files")
        return cls(home, dict(files) if isinstance(files, dict) else {})

    def vouches_for(self, file: InstalledFile) -> bool:
        """True when ``file`` is on disk and unchanged since it was hashed and matched."""
        entry = self.entries.get(file.destination)
        if not entry or entry.get("sha256") != file.sha256:
            return False
        try:
            stat = (self.home / file.destination).stat()
        except OSError:
            return False
        unchanged = entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns
        return unchanged and stat.st_size == file.size

    def record(self, destination: str, sha256: str) -> None:
        stat = (self.home / destination).stat()
        self.entries[destination] = {
            "sha256": sha256,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
        }

    def forget(self, destination: str) -> None:
        self.entries.pop(destination, None)

    def save(self) -> None:
        """Write atomically, so a reader never sees half a stamp."""
        payload = json.dumps({"format": STAMP_FORMAT, "files": self.entries}, indent=1)
        # Not mkstemp: the stamp must stay readable (umask permissions) in a shared cache.
        temporary = self.home / f"{STAMP_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            with temporary.open("x", encoding="utf-8") as stream:
                stream.write(payload)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _unconfirmed_files(group: AssetGroup, stamp: VerificationStamp) -> list[Path]:
    return [stamp.home / f.destination for f in group.files if not stamp.vouches_for(f)]


def missing_assets(
    groups: Iterable[str] = (ENGINE,),
    home: Path | str | None = None,
    *,
    manifest: Manifest = MANIFEST,
) -> list[Path]:
    """Files of ``groups`` that are absent, or present but not verified since they changed."""
    stamp = VerificationStamp.load(resolve_home(home))
    return [path for group in manifest.select(groups) for path in _unconfirmed_files(group, stamp)]


def _missing_message(home: Path, missing: list[Path]) -> str:
    shown = ", ".join(str(path.relative_to(home)) for path in missing[:MISSING_FILES_SHOWN])
    more = len(missing) - MISSING_FILES_SHOWN
    if more > 0:
        shown += f" and {more} more"
    return (
        f"Model files are missing from {home}. Run `{INSTALL_COMMAND}` "
        f"(needs access to the PyPI and npm registries). Missing or unverified: {shown}."
    )


def require_engine_assets(
    home: Path | str | None = None, *, manifest: Manifest = MANIFEST
) -> AssetPaths:
    """The engine's asset paths, or :class:`AssetsMissing` saying what to run.

    Cheap enough for every start: it checks existence, size and the verification stamp,
    and does not hash the model files.
    """
    resolved = resolve_home(home)
    missing = missing_assets((ENGINE,), resolved, manifest=manifest)
    if missing:
        raise AssetsMissing(_missing_message(resolved, missing))
    return AssetPaths(resolved)


def require_asr_assets(
    home: Path | str | None = None, *, manifest: Manifest = MANIFEST
) -> AssetPaths:
    """Like :func:`require_engine_assets`, for speech recognition (spoken consent)."""
    resolved = resolve_home(home)
    missing = missing_assets((ASR,), resolved, manifest=manifest)
    if missing:
        raise AssetsMissing(
            _missing_message(resolved, missing).replace(INSTALL_COMMAND, f"{INSTALL_COMMAND} --asr")
        )
    return AssetPaths(resolved)


def require_eval_assets(
    home: Path | str | None = None, *, manifest: Manifest = MANIFEST
) -> AssetPaths:
    """The engine's and the evaluation's files (real reference voices, recognisers) that
    tests and benchmarks listen with, or :class:`AssetsMissing` saying what to run."""
    resolved = resolve_home(home)
    missing = missing_assets((ENGINE, EVAL), resolved, manifest=manifest)
    if missing:
        raise AssetsMissing(
            _missing_message(resolved, missing).replace(
                f"`{INSTALL_COMMAND}`", f"`scripts/setup.sh --eval` (or `{INSTALL_COMMAND} --eval`)"
            )
        )
    return AssetPaths(resolved)


@dataclass(frozen=True)
class GroupStatus:
    """What ``voiceclone models status`` shows for one asset group."""

    name: str
    description: str
    file_count: int
    total_bytes: int
    installed_bytes: int
    missing: tuple[Path, ...]

    @property
    def installed(self) -> bool:
        return not self.missing

    @property
    def state(self) -> str:
        """``installed``, ``missing`` (nothing usable) or ``partial``."""
        if not self.missing:
            return "installed"
        return "missing" if len(self.missing) == self.file_count else "partial"


def _group_status(group: AssetGroup, stamp: VerificationStamp) -> GroupStatus:
    confirmed = [file for file in group.files if stamp.vouches_for(file)]
    return GroupStatus(
        name=group.name,
        description=group.description,
        file_count=len(group.files),
        total_bytes=group.total_bytes,
        installed_bytes=sum(file.size for file in confirmed),
        missing=tuple(_unconfirmed_files(group, stamp)),
    )


def status(home: Path | str | None = None, *, manifest: Manifest = MANIFEST) -> list[GroupStatus]:
    """One :class:`GroupStatus` per asset group, in manifest order (cheap, no hashing)."""
    stamp = VerificationStamp.load(resolve_home(home))
    return [_group_status(group, stamp) for group in manifest.groups]
