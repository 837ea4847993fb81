"""A real HTTP server in this process: disconnects, first bytes, early refusals."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.api import (
    UPLOAD_LIMIT,
    Api,
    assert_error,
    bearer,
    create_voice,
)
from support.api import live_server as serve_live
from support.fakes import (
    FAKE_STOCK_VOICE,
    FakeEngine,
)

from voiceclone.services.api_keys import create_api_key


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, FakeEngine, dict[str, str]]]:
    engine = FakeEngine(chunk_delay=0.1, chars_per_chunk=10)
    with serve_live(tmp_path, engine) as (base, app):
        with app.state.session_factory() as session:
            headers = bearer(create_api_key(session, "alice"))
        yield base, engine, headers


def test_client_disconnect_stops_synthesis(live_server) -> None:
    base, engine, headers = live_server
    text = "word " * 200  # 100 chunks, 10 s of work
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        with client.stream(
            "POST", "/v1/speech", json={"text": text, "voice": FAKE_STOCK_VOICE}
        ) as r:
            assert r.status_code == 200
            received = 0
            for data in r.iter_bytes():
                received += len(data)
                if received > 200 + 2 * 24_000 * 0.4:  # two chunks in
                    break
        made_at_disconnect = engine.chunks_made
        time.sleep(1.0)
        assert engine.chunks_made <= made_at_disconnect + 2, "synthesis went on after disconnect"
        assert engine.chunks_made < 20


def test_first_bytes_arrive_before_synthesis_ends(live_server) -> None:
    base, engine, headers = live_server
    text = "word " * 30  # 15 chunks at 0.1 s each
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        start = time.perf_counter()
        with client.stream(
            "POST", "/v1/speech", json={"text": text, "voice": FAKE_STOCK_VOICE}
        ) as r:
            first_audio = None
            total = 0
            for data in r.iter_bytes():
                total += len(data)
                if first_audio is None and total > 200:  # past the header
                    first_audio = time.perf_counter() - start
                    chunks_then = engine.chunks_made
        elapsed = time.perf_counter() - start
    assert first_audio is not None
    assert chunks_then < 5
    assert first_audio < elapsed / 3, (first_audio, elapsed)


def test_upload_over_http_is_refused_early(live_server) -> None:
    base, _, headers = live_server
    big = b"\0" * (UPLOAD_LIMIT * 3)
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        response = client.post(
            "/v1/voices", data={"consent": "true", "name": "x"}, files={"files": ("a.wav", big)}
        )
    assert_error(response, 413, "payload_too_large")


def test_websocket_disconnect_stops_synthesis(live_server) -> None:
    from websockets.sync.client import connect

    base, engine, headers = live_server
    url = base.replace("http://", "ws://") + "/v1/speech/ws"
    with connect(url, additional_headers=headers, proxy=None) as ws:
        ws.send(json.dumps({"voice": FAKE_STOCK_VOICE}))
        assert json.loads(ws.recv())["type"] == "ready"
        ws.send("word " * 200)  # 100 chunks, 10 s of work
        ws.send(json.dumps({"type": "flush"}))
        assert isinstance(ws.recv(timeout=10), bytes)
    made_at_disconnect = engine.chunks_made
    time.sleep(1.0)
    assert engine.chunks_made <= made_at_disconnect + 2, "synthesis went on after disconnect"
    assert engine.chunks_made < 20


def test_upload_spool_files_are_removed(api: Api, tmp_path: Path, monkeypatch) -> None:
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    assert create_voice(api).status_code == 201
    assert_error(
        api.client.post(
            "/v1/voices",
            headers=api.alice,
            data={"consent": "true", "name": "x"},
            files={"files": ("big.wav", b"\0" * (UPLOAD_LIMIT + 1))},
        ),
        413,
    )
    assert_error(
        api.client.post(
            "/v1/voices",
            headers=api.alice,
            data={"consent": "true", "name": "x"},
            files={"files": ("a.txt", b"no")},
        ),
        400,
        "invalid_audio",
    )
    assert list(spool.iterdir()) == []


def test_a_client_that_goes_away_mid_upload_leaves_nothing_behind(
    live_server, tmp_path: Path
) -> None:
    """Half a multipart body, then the connection closes: no voice, no spooled file left,
    and the server goes on answering."""
    import socket
    from urllib.parse import urlsplit

    base, _, headers = live_server
    boundary = "cut-off-upload"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nGone\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="consent"\r\n\r\ntrue\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    declared = len(head) + 400_000
    request = (
        f"POST /v1/voices HTTP/1.1\r\nHost: {urlsplit(base).netloc}\r\n"
        f"Authorization: {headers['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()
    address = urlsplit(base)
    spooled = tmp_path / "home" / "tmp"

    def spooled_files() -> list[str]:
        # os.walk skips folders the server removes while they are being listed
        return [name for _, _, files in os.walk(spooled) for name in files]

    def nothing_spooled() -> bool:
        return not spooled_files()

    with socket.create_connection((address.hostname, address.port)) as sock:
        sock.sendall(request + head + b"\0" * 200_000)  # half of the file...
        deadline = time.monotonic() + 10
        while nothing_spooled():  # ...which the server is writing to its scratch folder
            assert time.monotonic() < deadline, "the upload was not spooled under the home"
            time.sleep(0.05)
    # ...and then the client is gone

    deadline = time.monotonic() + 10
    while not nothing_spooled():
        assert time.monotonic() < deadline, spooled_files()
        time.sleep(0.1)
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        listed = client.get("/v1/voices")
        assert listed.status_code == 200 and listed.json()["voices"] == []
        assert client.get("/readyz").status_code == 200
