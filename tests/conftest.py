"""Shared fixtures: the installed model files (``scripts/setup.sh --eval`` puts them in
$VOICECLONE_HOME), one loaded engine per session, and real reference voices."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.fakes import FakeEngine
from support.servers import skip_or_fail

from voiceclone.assets.paths import AssetPaths
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore

REDIS_URL = os.environ.get("VOICECLONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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

    def words(samples: np.ndarray, language: str = "en") -> list[tuple[str, float, float]]:
        segments, _ = model.transcribe(
            samples, language=language, beam_size=1, word_timestamps=True
        )
        return [(w.word.strip(), w.start, w.end) for s in segments for w in s.words or ()]

    run.words = words  # type: ignore[attr-defined]
    return run


# --- service layer: databases, object stores, a fake engine ------------------------------
# SQLite and Postgres (a throwaway database, see service_support.py) run the same tests
# through the parametrized ``database_url`` fixture; ``any_store`` does the same for the
# local object store and S3 (moto on 127.0.0.1).


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from voiceclone.db import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'voiceclone.db'}"
    migrate(url)
    return url


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    from support.servers import temporary_postgres_database

    from voiceclone.db import migrate

    with temporary_postgres_database() as url:
        migrate(url)
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated database with no rows in it, on each backend in turn."""
    from support.servers import empty_tables

    url = request.getfixturevalue(f"{request.param}_database_url")
    empty_tables(url)
    return url


@pytest.fixture
def session_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    from voiceclone.db import make_session_factory

    factory = make_session_factory(database_url)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as opened:
        yield opened


@pytest.fixture
def local_store(tmp_path: Path) -> ObjectStore:
    from voiceclone.storage import open_store

    return open_store((tmp_path / "objects").as_uri())


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from support.servers import moto_s3_server

    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_store(s3_endpoint: str) -> ObjectStore:
    """A fresh bucket on the local S3 server."""
    from support.servers import create_bucket

    from voiceclone.settings import Settings
    from voiceclone.storage import open_store

    settings = Settings(s3_endpoint=s3_endpoint, s3_region="us-east-1")
    return open_store(f"s3://{create_bucket(s3_endpoint)}", settings=settings)


@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[str]:
    from support.servers import gcs_emulator

    with gcs_emulator() as endpoint:
        yield endpoint


@pytest.fixture
def gcs_store(gcs_endpoint: str) -> ObjectStore:
    """A fresh bucket on the local GCS emulator."""
    from support.servers import create_gcs_bucket

    from voiceclone.settings import Settings
    from voiceclone.storage import open_store

    settings = Settings(gcs_endpoint=gcs_endpoint)
    return open_store(f"gs://{create_gcs_bucket(gcs_endpoint)}/prefix", settings=settings)


@pytest.fixture(params=["local", "s3", "gcs"])
def any_store(request: pytest.FixtureRequest) -> ObjectStore:
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item (the browser tests screenshot failures)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def queue_settings(tmp_path) -> Iterator[Settings]:
    """Settings with a queue of its own on the test Redis, emptied afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {error}")
    name = f"voiceclone-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        home=tmp_path / "home",
        queue_url=REDIS_URL,
        queue_name=name,
        engine="fake",  # the name of the tests' FakeEngine
        engines=["fake"],
    )
    yield settings
    client.delete(*(f"{name}.{engine}" for engine in ("fake", "other", "kokoro", "xtts")))
    client.close()
