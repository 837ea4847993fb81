"""Real backing services for tests: a throwaway Postgres database and a local S3 (moto).

Postgres: ``VOICECLONE_TEST_POSTGRES_URL`` (default the trust-auth server on 127.0.0.1:5432,
database ``test``) is only used to CREATE and DROP a database ``voiceclone_test_<random>``;
nothing else on that server is touched. Without a reachable server the Postgres variants
are skipped locally and fail under CI (``CI`` set), where the server is part of the machine.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
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


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 that a test can cut and restore, to play a server that
    goes away (every open connection is dropped) and comes back on the same port."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, []
        for each in [listener, *sockets]:
            if each is not None:
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)
                each.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


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


@contextmanager
def gcs_emulator() -> Iterator[str]:
    """The GCS JSON API on 127.0.0.1 (gcp-storage-emulator, in memory); yields its URL."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def create_gcs_bucket(endpoint: str) -> str:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    name = f"voiceclone-{secrets.token_hex(4)}"
    client = storage.Client(
        project="test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )
    client.create_bucket(name)
    return name


def create_bucket(endpoint: str) -> str:
    import boto3

    name = f"voiceclone-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


STARTUP_SECONDS = 120
E2E_UPLOAD_LIMIT = 3_000_000


@dataclass
class Server:
    """A ``voiceclone serve`` process on a free loopback port."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "VOICECLONE_DATABASE_URL": f"sqlite:///{self.root / 'voiceclone.db'}",
            "VOICECLONE_STORAGE_URL": (self.root / "objects").as_uri(),
            "VOICECLONE_MAX_UPLOAD_BYTES": str(E2E_UPLOAD_LIMIT),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def create_key(self, owner: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "voiceclone.cli", "keys", "create", "--owner", owner],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        token = result.stdout.strip().splitlines()[-1]
        assert token.startswith("vc_"), result
        return token

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voiceclone.cli", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited:\n{self.log.read_text()}"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready in {STARTUP_SECONDS} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def celery_worker(app: object) -> Iterator[None]:
    """A Celery worker in this process (threads, one job at a time) on ``app``'s queue."""
    from celery.contrib.testing.worker import start_worker

    with start_worker(
        app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10
    ):
        yield
