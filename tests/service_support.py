"""Real backing services for tests: a throwaway Postgres database and a local S3 (moto).

Postgres: ``VOICECLONE_TEST_POSTGRES_URL`` (default the trust-auth server on 127.0.0.1:5432,
database ``test``) is only used to CREATE and DROP a database ``voiceclone_test_<random>``;
nothing else on that server is touched. Without a reachable server the Postgres variants
are skipped locally and fail under CI (``CI`` set), where the server is part of the machine.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from voiceclone.db import ApiKey, AuditEvent, ConsentChallenge, Job, Voice
from voiceclone.db.session import make_engine

DEFAULT_POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
S3_TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def postgres_base_url() -> str:
    return os.environ.get("VOICECLONE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped (forcefully) afterwards."""
    base_url = postgres_base_url()
    admin = create_engine(
        base_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"voiceclone_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        skip_or_fail(f"Postgres at {base_url} is not reachable: {error.orig}")
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_tables(url: str) -> None:
    """Remove every row the service wrote (the schema stays)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for model in (Job, Voice, ApiKey, ConsentChallenge, AuditEvent):
                connection.execute(delete(model))
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """An S3 API on 127.0.0.1 (moto in server mode); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in S3_TEST_CREDENTIALS.items():
                patch.setenv(name, value)
            yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def create_bucket(endpoint: str) -> str:
    import boto3

    name = f"voiceclone-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name
