"""Signed links that play with no header, and the browser's session cookie.

The link tests run over HTTP against a live server (uvicorn on loopback), as a browser, curl
or VLC would use them.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import update
from support.api import Api, api_settings, assert_error, create_voice, live_server, running_api
from support.fakes import FAKE_STOCK_VOICE, FakeEngine, wait_until, write_speech_wav

from voiceclone.db import WebSession, utcnow
from voiceclone.instance import KEYRING_FILE, rotate_signing_key
from voiceclone.services.api_keys import create_api_key, list_api_keys, revoke
from voiceclone.services.signed_links import LinkSigner, job_audio_object

TEXT = "A result to play in a browser, with no header at all."


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, object, dict[str, str], dict[str, str]]]:
    with live_server(tmp_path, FakeEngine()) as (base, app):
        with app.state.session_factory() as session:
            alice = {"Authorization": f"Bearer {create_api_key(session, 'alice')}"}
            bob = {"Authorization": f"Bearer {create_api_key(session, 'bob')}"}
        yield base, app, alice, bob


def _finished_job(base: str, headers: dict[str, str]) -> dict:
    with httpx.Client(base_url=base, headers=headers) as client:
        job = client.post("/v1/jobs", json={"text": TEXT, "voice": FAKE_STOCK_VOICE}).json()
        wait_until(lambda: client.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded")
        return client.get(f"/v1/jobs/{job['id']}").json()


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


def test_job_audio_link_plays_with_no_header_and_seeks(server) -> None:
    base, _, alice, _ = server
    job = _finished_job(base, alice)
    link = job["urls"]["audio"]
    assert {"owner", "exp", "sig"} <= set(parse_qs(urlsplit(link).query))

    whole = httpx.get(link)
    part = httpx.get(link, headers={"Range": "bytes=100-199"})
    assert whole.status_code == 200 and whole.content[:4] == b"RIFF"
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    saved = httpx.get(_with_query(link, download="true"))
    assert saved.headers["content-disposition"].startswith("attachment")
    converted = httpx.get(_with_query(link, format="mp3"))
    assert converted.status_code == 200 and converted.headers["content-type"] == "audio/mpeg"


def test_original_flow_links_play_anywhere(server, tmp_path: Path) -> None:
    base, app, alice, _ = server
    reference = write_speech_wav(tmp_path / "upload.wav")
    with reference.open("rb") as wav:
        uploaded = httpx.post(
            f"{base}/upload-voice",
            headers=alice,
            data={"user_id": "alice", "consent": "true"},
            files={"file": ("me.wav", wav, "audio/wav")},
        ).json()
    assert set(uploaded) >= {"message", "user_id", "blob", "gcs_url"}
    assert uploaded["gcs_url"] == f"{app.state.settings.storage_url}/{uploaded['blob']}"
    assert httpx.get(uploaded["url"]).content == reference.read_bytes()

    queued = httpx.post(
        f"{base}/synthesize",
        headers=alice,
        json={"user_id": "alice", "text": TEXT, "input_voice_gcs": uploaded["blob"]},
    ).json()
    assert set(queued) >= {"message", "job", "result_blob", "result_gs_url", "proxy_stream_url"}
    assert queued["proxy_stream_url"].startswith("/results/stream?blob=")
    with httpx.Client(base_url=base, headers=alice) as client:
        wait_until(lambda: client.get(f"/v1/jobs/{queued['job']}").json()["status"] == "succeeded")
    played = httpx.get(base + queued["proxy_stream_url"])  # BASE_URL + proxy_stream_url
    assert played.status_code == 200 and played.content[:4] == b"RIFF"
    seek = httpx.get(base + queued["proxy_stream_url"], headers={"Range": "bytes=-10"})
    assert seek.status_code == 206 and seek.content == played.content[-10:]
    # local storage: result_gs_url is a signed link too, since file:// plays nowhere
    assert httpx.get(queued["result_gs_url"]).content == played.content


def test_tampered_links_are_refused_and_never_open_another_object(server) -> None:
    base, _, alice, _ = server
    first, second = _finished_job(base, alice), _finished_job(base, alice)
    link = first["urls"]["audio"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}

    cases = {
        "signature": _with_query(link, sig=query["sig"][:-2] + "AA"),
        "expiry": _with_query(link, exp=str(int(query["exp"]) + 3600)),
        "owner": _with_query(link, owner="bob"),
        "object": link.replace(first["id"], second["id"]),
    }
    for what, url in cases.items():
        assert "signature is not valid" in assert_error(httpx.get(url), 403, "bad_signature"), what


def test_expired_links_say_so(server) -> None:
    base, app, alice, _ = server
    job = _finished_job(base, alice)
    signer: LinkSigner = app.state.links
    old = signer.params(job_audio_object(job["id"]), "alice", now=time.time() - 25 * 3600)
    url = f"{base}/v1/jobs/{job['id']}/audio?{urlencode(old)}"

    assert "expired" in assert_error(httpx.get(url), 403, "link_expired")


def test_keys_and_bare_urls_without_signature(server) -> None:
    base, _, alice, bob = server
    job = _finished_job(base, alice)
    bare = f"{base}/v1/jobs/{job['id']}/audio"
    blob = f"{base}/results/stream?blob={job['result_blob']}"

    assert_error(httpx.get(bare), 401, "unauthorized")
    assert_error(httpx.get(blob), 401, "unauthorized")
    assert httpx.get(bare, headers=alice).status_code == 200  # a key needs no signature
    assert httpx.get(blob, headers=alice).status_code == 200
    assert_error(httpx.get(blob, headers=bob), 404, "not_found")  # never someone else's
    assert_error(httpx.get(bare, headers=bob), 404, "not_found")


def test_voice_listing_gives_fresh_links_to_samples_and_preview(tmp_path: Path) -> None:
    with running_api(tmp_path) as api:
        voice = create_voice(api, "linked").json()
        listed = api.client.get("/v1/voices", headers=api.alice).json()["voices"][0]
        (sample_url,) = listed["sample_urls"]
        assert api.client.get(sample_url).content == api.reference.read_bytes()
        preview = api.client.get(listed["preview_url"])
        assert preview.status_code == 200 and preview.headers["content-type"] == "audio/mpeg"
        other = listed["preview_url"].replace(voice["id"], "00000000-0000-0000-0000-000000000000")
        assert_error(api.client.get(other), 403, "bad_signature")


def test_the_generated_key_is_private_survives_restarts_and_rotates(tmp_path: Path) -> None:
    settings = api_settings(tmp_path)
    link = LinkSigner(settings).params("job:1", "alice")
    keyring = settings.home / KEYRING_FILE
    assert stat.S_IMODE(os.stat(keyring).st_mode) == 0o600

    LinkSigner(settings).verify("job:1", "alice", link["exp"], link["sig"])  # a restart
    rotate_signing_key(settings)
    rotated = LinkSigner(settings)
    rotated.verify("job:1", "alice", link["exp"], link["sig"])  # the previous key: still valid
    fresh = rotated.params("job:1", "alice")
    assert fresh["sig"] != link["sig"]

    ring = json.loads(keyring.read_text())
    ring["rotated_at"] -= settings.link_ttl_seconds + 1  # one TTL after the rotation
    keyring.write_text(json.dumps(ring))
    with pytest.raises(Exception, match="not valid"):
        LinkSigner(settings).verify("job:1", "alice", link["exp"], link["sig"])
    LinkSigner(settings).verify("job:1", "alice", fresh["exp"], fresh["sig"])


def test_replicas_sharing_the_signing_key_accept_each_others_links(tmp_path: Path) -> None:
    first = api_settings(tmp_path / "a", signing_key="shared-secret")
    second = api_settings(tmp_path / "b", signing_key="shared-secret")
    link = LinkSigner(first).params("job:7", "alice")

    assert LinkSigner(second).verify("job:7", "alice", link["exp"], link["sig"]) == "alice"
    rotated = api_settings(tmp_path / "c", signing_key="new", previous_signing_key="shared-secret")
    assert LinkSigner(rotated).verify("job:7", "alice", link["exp"], link["sig"]) == "alice"


# -- the browser's session ------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_sign_in_sets_an_http_only_strict_cookie(api: Api) -> None:
    wrong = api.client.post("/v1/session", json={"api_key": "vc_wrong"})
    assert "not valid" in assert_error(wrong, 401, "unauthorized")

    signed_in = api.client.post("/v1/session", json={"api_key": _token(api.alice)})

    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    body = signed_in.json()
    assert body["owner"] == "alice" and body["csrf_token"]
    assert _token(api.alice) not in signed_in.text
    api.client.headers.pop("authorization", None)
    assert api.client.get("/v1/voices").status_code == 200  # the cookie is enough to read
    assert api.client.get("/v1/session").json()["csrf_token"] == body["csrf_token"]


def test_state_changes_need_the_csrf_token(api: Api) -> None:
    csrf = api.client.post("/v1/session", json={"api_key": _token(api.alice)}).json()["csrf_token"]
    job = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}

    forged = api.client.post("/v1/jobs", json=job)
    wrong = api.client.post("/v1/jobs", json=job, headers={"X-CSRF-Token": "guess"})
    accepted = api.client.post("/v1/jobs", json=job, headers={"X-CSRF-Token": csrf})

    assert "X-CSRF-Token" in assert_error(forged, 403, "csrf_failed")
    assert_error(wrong, 403, "csrf_failed")
    assert accepted.status_code == 202


def test_an_expired_session_asks_to_sign_in_again(api: Api) -> None:
    api.client.post("/v1/session", json={"api_key": _token(api.alice)})
    with api.client.app.state.session_factory() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    message = assert_error(api.client.get("/v1/voices"), 401, "session_expired")
    assert "Sign in again" in message
    assert_error(api.client.get("/v1/session"), 401, "session_expired")


def test_sign_out_and_revoked_keys_end_the_session(api: Api) -> None:
    csrf = api.client.post("/v1/session", json={"api_key": _token(api.alice)}).json()["csrf_token"]
    assert api.client.delete("/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert_error(api.client.get("/v1/voices"), 401)

    carol = api.key("carol")
    api.client.post("/v1/session", json={"api_key": _token(carol)})
    with api.client.app.state.session_factory() as session:
        revoke(session, "carol", list_api_keys(session, "carol")[0].id)
    assert "revoked" in assert_error(api.client.get("/v1/voices"), 401, "session_expired")


def test_websocket_takes_the_cookie_from_this_site_only(api: Api) -> None:
    api.client.post("/v1/session", json={"api_key": _token(api.alice)})
    same_site = {"origin": "http://testserver"}
    with api.client.websocket_connect("/v1/speech/ws", headers=same_site) as socket:
        socket.send_json({"voice": FAKE_STOCK_VOICE})
        assert socket.receive_json()["type"] == "ready"
    with api.client.websocket_connect(
        "/v1/speech/ws", headers={"origin": "https://evil.example"}
    ) as socket:
        socket.send_json({"voice": FAKE_STOCK_VOICE})
        refused = socket.receive_json()
        assert refused["type"] == "error" and refused["error"]["code"] == "csrf_failed"
