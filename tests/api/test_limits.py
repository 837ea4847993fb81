"""Per-key limits (429 + Retry-After, naming the limit), admin keys, and the audit log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from support.api import (
    Api,
    assert_error,
    bearer,
    create_voice,
    live_server,
    metric_samples,
    metric_value,
    running_api,
)
from support.fakes import FAKE_STOCK_VOICE, FakeEngine
from support.servers import free_port

from voiceclone.db import AuditEvent
from voiceclone.services.api_keys import KeyLimits, create_api_key


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running


def _limit_hits(api: Api) -> list[AuditEvent]:
    with api.client.app.state.session_factory() as session:
        query = select(AuditEvent).where(AuditEvent.action == "limit.hit")
        return list(session.scalars(query))


def _assert_limited(response: httpx.Response, limit: str) -> str:
    message = assert_error(response, 429, "rate_limited")
    assert limit in message, message
    assert int(response.headers["retry-after"]) >= 1
    return message


def test_requests_per_minute(api: Api) -> None:
    carol = api.key("carol", requests_per_minute=3)
    for _ in range(3):
        assert api.client.get("/v1/voices", headers=carol).status_code == 200

    refused = api.client.get("/v1/voices", headers=carol)

    _assert_limited(refused, "requests per minute")
    assert int(refused.headers["retry-after"]) <= 60
    assert api.client.get("/v1/voices", headers=api.alice).status_code == 200  # others go on
    (hit,) = _limit_hits(api)
    assert (hit.owner, hit.target) == ("carol", "requests per minute")


def _limit_hit_count(api: Api, limit: str) -> float:
    samples = metric_samples(api.client.get("/metrics").text)
    return metric_value(samples, "voiceclone_limit_hits_total", limit=limit)


def test_refusals_past_a_limit_are_all_counted_but_audited_once_a_minute(api: Api) -> None:
    carol = api.key("carol", requests_per_minute=2)
    dave = api.key("dave", requests_per_minute=1)
    before = _limit_hit_count(api, "requests per minute")
    for _ in range(2):
        assert api.client.get("/v1/voices", headers=carol).status_code == 200

    for _ in range(5):
        _assert_limited(api.client.get("/v1/voices", headers=carol), "requests per minute")
    assert api.client.get("/v1/voices", headers=dave).status_code == 200
    _assert_limited(api.client.get("/v1/voices", headers=dave), "requests per minute")

    assert _limit_hit_count(api, "requests per minute") - before == 6
    assert sorted(hit.owner for hit in _limit_hits(api)) == ["carol", "dave"]


def test_characters_per_day(api: Api) -> None:
    carol = api.key("carol", chars_per_day=60)
    text = "Forty characters of text to be spoken.."
    speak = {"text": text, "voice": FAKE_STOCK_VOICE}
    assert api.client.post("/v1/speech", headers=carol, json=speak).status_code == 200

    _assert_limited(api.client.post("/v1/speech", headers=carol, json=speak), "characters per day")
    job = {"text": text, "voice": FAKE_STOCK_VOICE}
    _assert_limited(api.client.post("/v1/jobs", headers=carol, json=job), "characters per day")
    openai = {"model": "tts-1", "input": text, "voice": FAKE_STOCK_VOICE}
    _assert_limited(
        api.client.post("/v1/audio/speech", headers=carol, json=openai), "characters per day"
    )
    short = {"text": "Ten chars.", "voice": FAKE_STOCK_VOICE}
    assert api.client.post("/v1/speech", headers=carol, json=short).status_code == 200


def test_a_request_longer_than_the_daily_allowance_says_so(api: Api) -> None:
    carol = api.key("carol", chars_per_day=10)
    response = api.client.post(
        "/v1/jobs", headers=carol, json={"text": "a" * 11, "voice": FAKE_STOCK_VOICE}
    )
    assert "this request alone has 11" in _assert_limited(response, "characters per day")


def test_stored_voices(api: Api) -> None:
    carol = api.key("carol", max_voices=1)
    assert create_voice(api, "first", carol).status_code == 201

    _assert_limited(create_voice(api, "second", carol), "stored voices")
    assert len(api.client.get("/v1/voices", headers=carol).json()["voices"]) == 1


def test_concurrent_live_streams(tmp_path: Path) -> None:
    engine = FakeEngine(chunk_delay=0.1, chars_per_chunk=10)
    with live_server(tmp_path, engine) as (base, app):
        with app.state.session_factory() as session:
            carol = bearer(create_api_key(session, "carol", limits=KeyLimits(max_streams=1)))
        body = {"text": "word " * 40, "voice": FAKE_STOCK_VOICE}
        with httpx.Client(base_url=base, headers=carol, timeout=30) as client:
            with client.stream("POST", "/v1/speech", json=body) as first:
                assert first.status_code == 200
                received = first.iter_bytes()  # kept: a dropped iterator closes the stream
                next(received)
                second = client.post("/v1/speech", json=body)
                _assert_limited(second, "live streams")
            # the first stream ended: its slot is free again
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                again = client.post("/v1/speech", json={**body, "text": "short"})
                if again.status_code == 200:
                    break
                time.sleep(0.1)
            assert again.status_code == 200, again.text


def test_websocket_holds_a_stream_slot(api: Api) -> None:
    carol = api.key("carol", max_streams=1)
    with api.client.websocket_connect("/v1/speech/ws", headers=carol) as socket:
        socket.send_json({"voice": FAKE_STOCK_VOICE})
        assert socket.receive_json()["type"] == "ready"
        busy = api.client.post(
            "/v1/speech", headers=carol, json={"text": "Hi there.", "voice": FAKE_STOCK_VOICE}
        )
        _assert_limited(busy, "live streams")
        socket.send_json({"type": "end"})
    free = api.client.post(
        "/v1/speech", headers=carol, json={"text": "Hi there.", "voice": FAKE_STOCK_VOICE}
    )
    assert free.status_code == 200


# -- admin ---------------------------------------------------------------------------------------


def test_admin_routes_need_an_admin_key(api: Api) -> None:
    for method, path in (
        ("GET", "/v1/admin/keys"),
        ("GET", "/v1/admin/usage"),
        ("GET", "/v1/admin/audit"),
        ("DELETE", "/v1/admin/keys/00000000-0000-0000-0000-000000000000"),
    ):
        response = api.client.request(method, path, headers=api.alice)
        assert "administrator" in assert_error(response, 403, "forbidden"), path


def test_admin_lists_keys_sees_usage_and_revokes(api: Api) -> None:
    admin = api.key("root", admin=True)
    api.client.post(
        "/v1/speech", headers=api.bob, json={"text": "Twelve chars", "voice": FAKE_STOCK_VOICE}
    )

    listed = api.client.get("/v1/admin/keys", headers=admin).json()["keys"]
    assert {key["owner"] for key in listed} == {"alice", "bob", "root"}
    assert all("key_hash" not in key and not key["prefix"].endswith("…") for key in listed)
    bob_key = next(key for key in listed if key["owner"] == "bob")
    usage = api.client.get("/v1/admin/usage", headers=admin, params={"owner": "bob"}).json()
    (row,) = usage["usage"]
    assert row["chars_today"] == 12 and row["requests_last_minute"] >= 1
    assert row["limits"]["max_streams"] == 4  # the server's default

    revoked = api.client.delete(f"/v1/admin/keys/{bob_key['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert api.client.get("/v1/voices", headers=api.bob).status_code == 401
    missing = api.client.delete("/v1/admin/keys/not-a-key", headers=admin)
    assert_error(missing, 404, "not_found")

    actions = [
        e["action"] for e in api.client.get("/v1/admin/audit", headers=admin).json()["events"]
    ]
    assert actions[0] == "key.revoked" and actions.count("key.created") == 3


def test_audit_records_voices_consent_keys_and_limits(api: Api) -> None:
    voice = create_voice(api, "audited").json()
    api.client.delete(f"/v1/voices/{voice['id']}", headers=api.alice)
    refused = create_voice(api, "refused", consent="false")
    assert refused.status_code == 400

    with api.client.app.state.session_factory() as session:
        events = [(e.action, e.owner) for e in session.scalars(select(AuditEvent))]
    for expected in (
        ("key.created", "alice"),
        ("consent.accepted", "alice"),
        ("voice.created", "alice"),
        ("voice.deleted", "alice"),
        ("consent.refused", "alice"),
    ):
        assert expected in events, expected


# -- limits hold across two server processes that share Redis -----------------------------------


@pytest.mark.models
def test_limits_are_shared_by_replicas_through_redis(tmp_path: Path) -> None:
    redis_url = os.environ.get("VOICECLONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    env = {
        **os.environ,
        "VOICECLONE_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "VOICECLONE_STORAGE_URL": (tmp_path / "objects").as_uri(),
        "VOICECLONE_LIMITS_STORAGE_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "voiceclone.cli"]
    created = subprocess.run(
        [*command, "keys", "create", "--owner", "carol", "--rpm", "4"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    headers = bearer(created.stdout.strip().splitlines()[-1])
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            _wait_ready(f"http://127.0.0.1:{port}")
        answers = [
            httpx.get(f"http://127.0.0.1:{ports[i % 2]}/v1/voices", headers=headers).status_code
            for i in range(5)
        ]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    assert answers == [200, 200, 200, 200, 429]


def _wait_ready(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} did not become ready")
