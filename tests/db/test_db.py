"""Migrations build the schema on SQLite and on a real Postgres, matching the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.db import (
    Base,
    Job,
    JobStatus,
    current_revision,
    head_revision,
    make_engine,
    make_session_factory,
    migrate,
    session_scope,
)

EXPECTED_COLUMNS = {
    "api_keys": {
        "id",
        "owner",
        "name",
        "key_hash",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
        "is_admin",
        "requests_per_minute",
        "chars_per_day",
        "max_streams",
        "max_voices",
    },
    "voices": {
        "id",
        "owner",
        "name",
        "language",
        "engine",
        "method",
        "profile",
        "sample_keys",
        "sample_seconds",
        "created_at",
        "updated_at",
        "consent",
        "quality",
    },
    "jobs": {
        "id",
        "owner",
        "voice_id",
        "voice_ref",
        "text",
        "language",
        "format",
        "speed",
        "engine",
        "status",
        "progress",
        "attempts",
        "error_code",
        "error_message",
        "result_key",
        "result_bytes",
        "duration_seconds",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
    },
    "consent_challenges": {
        "id",
        "owner",
        "language",
        "text",
        "code",
        "created_at",
        "expires_at",
        "used_at",
    },
    "audit_events": {"id", "at", "action", "owner", "actor_key_id", "target", "detail"},
}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"
        return
    from support.servers import temporary_postgres_database

    with temporary_postgres_database() as url:
        yield url


def test_migrate_creates_the_schema(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None

    migrate(empty_database_url)

    engine = make_engine(empty_database_url)
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        assert set(EXPECTED_COLUMNS) <= tables
        for table, columns in EXPECTED_COLUMNS.items():
            assert {column["name"] for column in inspector.get_columns(table)} == columns
        job_indexes = {tuple(index["column_names"]) for index in inspector.get_indexes("jobs")}
        assert ("status", "created_at") in job_indexes
        assert ("owner",) in job_indexes
        assert current_revision(empty_database_url) == head_revision()
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_database_url: str) -> None:
    migrate(empty_database_url)

    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_migrate_is_idempotent_and_keeps_data(database_url: str) -> None:
    factory = make_session_factory(database_url)
    with session_scope(factory) as session:
        session.add(_job("alice"))

    migrate(database_url)
    migrate(database_url)

    with session_scope(factory) as session:
        assert session.query(Job).count() == 1
    factory.kw["bind"].dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_database_url: str) -> None:
    engine = make_engine(sqlite_database_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    finally:
        engine.dispose()


def test_timestamps_come_back_as_utc(session_factory: sessionmaker[Session]) -> None:
    seoul = timezone(timedelta(hours=9))
    started = datetime(2026, 1, 2, 12, 30, tzinfo=seoul)
    job = _job("alice")
    job.started_at = started
    with session_scope(session_factory) as session:
        session.add(job)

    with session_scope(session_factory) as session:
        stored = session.get(Job, job.id)
        assert stored is not None
        assert stored.started_at == started
        assert stored.started_at.tzinfo is not None
        assert stored.started_at.utcoffset() == timedelta(0)
        assert stored.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(session_factory: sessionmaker[Session]) -> None:
    job = _job("alice")
    job.started_at = datetime(2026, 1, 2, 12, 30)  # naive on purpose

    with pytest.raises(Exception, match="naive datetime"), session_scope(session_factory) as s:
        s.add(job)


def test_session_scope_rolls_back_on_error(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), session_scope(session_factory) as session:
        session.add(_job("alice"))
        session.flush()
        raise RuntimeError("boom")

    with session_scope(session_factory) as session:
        assert session.query(Job).count() == 0


def _job(owner: str) -> Job:
    job_id = uuid.uuid4()
    return Job(
        id=job_id,
        owner=owner,
        voice_ref="fake_voice",
        text="Hello.",
        format="wav",
        speed=1.0,
        status=JobStatus.QUEUED,
        progress=0.0,
        attempts=0,
        result_key=f"results/{owner}/{job_id}.wav",
        created_at=datetime.now(UTC),
    )
