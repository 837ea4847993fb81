"""XTTS-v2, the original service's engine: its entry in the registry.

This version can report what an XTTS-v2 installation needs and whether the release files
are in place, but it cannot synthesize with it yet: ``load`` refuses with that message.
"""

from __future__ import annotations

from pathlib import Path

from voiceclone.engines.base import Engine, EngineInfo
from voiceclone.settings import Settings

NAME = "xtts"
VERSION = "xtts-v2"
SAMPLE_RATE = 24_000
LANGUAGES = (
    "en", "es", "fr", "de", "it", "pt", "pl", "tr", "ru",
    "nl", "cs", "ar", "zh-cn", "ja", "hu", "ko", "hi",
)  # fmt: skip
RELEASE_FILES = (
    "model.pth",
    "config.json",
    "vocab.json",
    "speakers_xtts.pth",
    "dvae.pth",
    "mel_stats.pth",
)
LICENCE = "Coqui Public Model License 1.0.0 (non-commercial use only)"
HOW_TO_GET = (
    "On a machine with internet, download the XTTS-v2 release (the files "
    f"{', '.join(RELEASE_FILES)}) from the model's official page, accept its licence "
    f"({LICENCE}; COQUI_TOS_AGREED=1 records that), and copy the folder to this machine as "
    "VOICECLONE_XTTS_DIR."
)
NOT_IN_THIS_VERSION = "XTTS-v2 synthesis is not part of this version of voiceclone yet."


def missing_release_files(directory: Path | None) -> list[str]:
    if directory is None:
        return list(RELEASE_FILES)
    return [name for name in RELEASE_FILES if not (directory.expanduser() / name).is_file()]


def _detail(settings: Settings) -> str:
    missing = missing_release_files(settings.xtts_dir)
    if settings.xtts_dir is None:
        files = "VOICECLONE_XTTS_DIR is not set. " + HOW_TO_GET
    elif missing:
        files = f"Missing from {settings.xtts_dir}: {', '.join(missing)}. " + HOW_TO_GET
    else:
        files = f"The release files are in {settings.xtts_dir}."
    return f"{NOT_IN_THIS_VERSION} {files}"


def describe(settings: Settings) -> EngineInfo:
    return EngineInfo(
        name=NAME,
        version=VERSION,
        languages=LANGUAGES,
        sample_rate=SAMPLE_RATE,
        device="cuda" if settings.device != "cpu" else "cpu",
        streams=True,
        state="unavailable",
        detail=_detail(settings),
        licence=LICENCE,
    )


def load(settings: Settings) -> Engine:
    from voiceclone.engines import EngineUnavailable

    raise EngineUnavailable(_detail(settings))
