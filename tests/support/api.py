"""The HTTP API in a test: an app on the model-free FakeEngine with keys for alice and bob,
in-process (TestClient) or behind a real uvicorn server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from support.fakes import FakeEngine, wait_until, write_speech_wav
from support.servers import free_port
from voiceclone.api import create_app
from voiceclone.services.api_keys import KeyLimits, create_api_key
from voiceclone.settings import Settings

UPLOAD_LIMIT = 1_000_000


@dataclass
class Api:
    client: TestClient
    engine: FakeEngine
    alice: dict[str, str]
    bob: dict[str, str]
    reference: Path

    def key(self, owner: str, *, admin: bool = False, **limits: int) -> dict[str, str]:
        """Headers with a new key of ``owner`` (with these limits)."""
        with self.client.app.state.session_factory() as session:
            token = create_api_key(session, owner, is_admin=admin, limits=KeyLimits(**limits))
        return bearer(token)

    def wait_for_job(self, job_id: str, headers: dict[str, str] | None = None) -> dict:
        result: dict = {}

        def finished() -> bool:
            response = self.client.get(f"/v1/jobs/{job_id}", headers=headers or self.alice)
            result.update(response.json())
            return result["status"] in ("succeeded", "failed", "cancelled")

        wait_until(finished, timeout=20)
        return result


def api_settings(tmp_path: Path, **overrides: object) -> Settings:
    defaults: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'voiceclone.db'}",
        "storage_url": (tmp_path / "objects").as_uri(),
        "max_upload_bytes": UPLOAD_LIMIT,
        "home": tmp_path / "home",
        # The fake engine's speed says nothing of real capacity; test_capacity turns it on.
        "live_admission": False,
    }
    return Settings(**{**defaults, **overrides})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def running_api(
    tmp_path: Path, engine: FakeEngine | None = None, **overrides: object
) -> Iterator[Api]:
    chosen = engine or FakeEngine()
    app = create_app(api_settings(tmp_path, **overrides), engine=chosen)
    with TestClient(app) as client:
        with app.state.session_factory() as session:
            alice = create_api_key(session, "alice")
            bob = create_api_key(session, "bob")
        reference = write_speech_wav(tmp_path / "me.wav")
        yield Api(client, chosen, bearer(alice), bearer(bob), reference)


def create_voice(
    api: Api,
    name: str = "my voice",
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    with api.reference.open("rb") as wav:
        return api.client.post(
            "/v1/voices",
            headers=headers or api.alice,
            data={"consent": "true", "name": name, **fields},
            files={"files": ("me.wav", wav, "audio/wav")},
        )


def metric_samples(text: str) -> dict[str, list]:
    """Prometheus text as {sample name: samples}."""
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def metric_value(samples: dict[str, list], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples that carry ``labels``."""
    return sum(
        s.value
        for s in samples.get(name, [])
        if all(s.labels.get(k) == v for k, v in labels.items())
    )


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]["message"]


@contextmanager
def live_server(
    tmp_path: Path, engine: FakeEngine, **overrides: object
) -> Iterator[tuple[str, object]]:
    """A uvicorn server on loopback around the app; yields its base URL and the app."""
    app = create_app(api_settings(tmp_path, **overrides), engine=engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=20)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
