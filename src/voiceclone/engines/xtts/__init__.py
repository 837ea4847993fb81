"""XTTS-v2, the original service's engine, through coqui-tts (the optional ``xtts`` extra).

Its weights are never fetched: ``VOICECLONE_XTTS_DIR`` holds the official release files,
with the release's sha256 list as ``SHA256SUMS`` (``sha256sum`` format), which every file
is checked against before the model loads.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from voiceclone.engines import EngineUnavailable
from voiceclone.engines.base import EngineInfo
from voiceclone.settings import Settings

if TYPE_CHECKING:
    from voiceclone.engines.xtts.engine import XttsEngine

NAME = "xtts"
VERSION = "xtts-v2"
SAMPLE_RATE = 24_000
LANGUAGES = (
    "en", "es", "fr", "de", "it", "pt", "pl", "tr", "ru",
    "nl", "cs", "ar", "zh-cn", "ja", "hu", "ko", "hi",
)  # fmt: skip
#: The files the engine loads; the release has more (dvae.pth, mel_stats.pth, ...).
RELEASE_FILES = ("model.pth", "config.json", "vocab.json", "speakers_xtts.pth")
CHECKSUMS_FILE = "SHA256SUMS"
LICENCE = "Coqui Public Model License 1.0.0 (non-commercial use only)"
PACKAGES = ("TTS", "torch", "torchaudio")
INSTALL_HINT = "pip install 'voiceclone[xtts]' (coqui-tts with torch 2.9.1 and torchaudio 2.9)"
HOW_TO_GET = (
    "On a machine with internet, download the XTTS-v2 release from the model's official "
    f"page ({', '.join(RELEASE_FILES)} and the rest), accept its licence ({LICENCE}; "
    "COQUI_TOS_AGREED=1 records that), write the published sha256 of each file into "
    f"{CHECKSUMS_FILE} beside them (sha256sum format), and copy the folder to this machine "
    "as VOICECLONE_XTTS_DIR."
)
HASH_BLOCK = 1 << 20


class ReleaseInvalid(EngineUnavailable):
    """The XTTS-v2 stack or release files are missing or altered."""


def missing_packages() -> list[str]:
    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


def missing_release_files(directory: Path | None) -> list[str]:
    if directory is None:
        return [*RELEASE_FILES, CHECKSUMS_FILE]
    folder = directory.expanduser()
    return [name for name in (*RELEASE_FILES, CHECKSUMS_FILE) if not (folder / name).is_file()]


def _listed_checksums(folder: Path) -> dict[str, str]:
    listed: dict[str, str] = {}
    for line in (folder / CHECKSUMS_FILE).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            digest, name = parts
            listed[name.lstrip("*")] = digest.lower()
    return listed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verified_release(directory: Path | None) -> Path:
    """The release folder once every file the engine loads matches ``SHA256SUMS``;
    :class:`ReleaseInvalid` saying what is missing or altered otherwise."""
    missing = missing_release_files(directory)
    if missing:
        where = directory or "VOICECLONE_XTTS_DIR (not set)"
        raise ReleaseInvalid(
            f"XTTS-v2 files missing from {where}: {', '.join(missing)}. {HOW_TO_GET}"
        )
    assert directory is not None  # a missing folder has every file missing
    folder = Path(directory).expanduser()
    listed = _listed_checksums(folder)
    unlisted = [name for name in RELEASE_FILES if name not in listed]
    if unlisted:
        raise ReleaseInvalid(
            f"{folder / CHECKSUMS_FILE} lists no sha256 for {', '.join(unlisted)}."
        )
    altered = [name for name in RELEASE_FILES if _sha256(folder / name) != listed[name]]
    if altered:
        raise ReleaseInvalid(
            f"XTTS-v2 files in {folder} do not match their sha256 in {CHECKSUMS_FILE}: "
            f"{', '.join(altered)}. Copy them again from the release."
        )
    return folder


def _detail(settings: Settings) -> str:
    packages = missing_packages()
    files = missing_release_files(settings.xtts_dir)
    problems = []
    if packages:
        problems.append(f"Not installed: {', '.join(packages)}; {INSTALL_HINT}.")
    if settings.xtts_dir is None:
        problems.append("VOICECLONE_XTTS_DIR is not set. " + HOW_TO_GET)
    elif files:
        problems.append(f"Missing from {settings.xtts_dir}: {', '.join(files)}. " + HOW_TO_GET)
    return " ".join(problems)


def describe(settings: Settings) -> EngineInfo:
    """Cheap: packages and files present (their sha256 is checked when the model loads)."""
    detail = _detail(settings)
    return EngineInfo(
        name=NAME,
        version=VERSION,
        languages=LANGUAGES,
        sample_rate=SAMPLE_RATE,
        device="cuda" if settings.device != "cpu" else "cpu",
        streams=True,
        state="missing" if detail else "ready",
        detail=detail,
        licence=LICENCE,
    )


def load(settings: Settings) -> XttsEngine:
    detail = _detail(settings)
    if detail:
        raise ReleaseInvalid(detail)
    from voiceclone.engines.xtts.engine import XttsEngine

    return XttsEngine(settings)
