"""Model files: what is needed (manifest), getting them (install) and finding them (paths).

Typical use::

    paths = require_engine_assets()          # cheap; raises AssetsMissing if not installed
    session = onnxruntime.InferenceSession(paths.kokoro_model)

    install_assets(("engine", "asr", "eval"), progress=lambda what, done, total: ...)
"""

from voiceclone.assets.install import Fetcher, ProgressCallback, RegistryFetcher, install_assets
from voiceclone.assets.manifest import ASR, ENGINE, EVAL, MANIFEST, AssetGroup, Manifest
from voiceclone.assets.paths import (
    INSTALL_COMMAND,
    AssetPaths,
    GroupStatus,
    missing_assets,
    require_engine_assets,
    resolve_home,
    status,
)

__all__ = [
    "ASR",
    "ENGINE",
    "EVAL",
    "INSTALL_COMMAND",
    "MANIFEST",
    "AssetGroup",
    "AssetPaths",
    "Fetcher",
    "GroupStatus",
    "Manifest",
    "ProgressCallback",
    "RegistryFetcher",
    "install_assets",
    "missing_assets",
    "require_engine_assets",
    "resolve_home",
    "status",
]
