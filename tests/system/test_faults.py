"""Abuse and faults a live server meets: idle and malformed sockets, refused text that must
cost nothing, bad uploads and names. Each test here fails without the fix it covers."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect
from support.api import (
    Api,
    api_settings,
    assert_error,
    create_voice,
    live_server,
    running_api,
)
from support.fakes import FAKE_STOCK_VOICE, FakeEngine, wait_until, with_pauses, write_speech_wav
from support.fakes import REFERENCE_RATE as RATE

from voiceclone.audio.reference import prepare_reference
from voiceclone.audio.vad import WINDOW_SECONDS
from voiceclone.errors import InvalidAudio
from voiceclone.scratch import SCRATCH_DIR
from voiceclone.services.api_keys import create_api_key
from voiceclone.services.janitor import collect_garbage
from voiceclone.settings import get_settings
from voiceclone.storage import open_store

IDLE_S = 0.6


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(
        tmp_path, live_admission=True, live_capacity=3.5, ws_idle_seconds=IDLE_S
    ) as running:  # two live streams fit
        yield running


def _ready_socket(api: Api, headers: dict[str, str] | None = None):
    socket = api.client.websocket_connect("/v1/speech/ws", headers=headers or api.alice)
    ws = socket.__enter__()
    ws.send_json({"voice": FAKE_STOCK_VOICE})
    assert ws.receive_json()["type"] == "ready"
    return socket, ws


def _closed_with(ws, code: str, close_code: int) -> str:
    frame = ws.receive_json()
    assert frame["type"] == "error" and frame["error"]["code"] == code, frame
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == close_code
    return frame["error"]["message"]


def _speak(api: Api) -> int:
    body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
    return api.client.post("/v1/speech", headers=api.alice, json=body).status_code


def test_idle_sockets_are_closed_and_give_their_places_back(api: Api) -> None:
    sockets = [_ready_socket(api) for _ in range(2)]
    assert _speak(api) == 429  # both places held by sockets that say nothing
    for opened, ws in sockets:
        message = _closed_with(ws, "idle_timeout", 1008)
        assert f"{IDLE_S:g} seconds" in message
        opened.__exit__(None, None, None)
    assert _speak(api) == 200


def test_a_socket_that_keeps_talking_is_not_idle(api: Api) -> None:
    socket, ws = _ready_socket(api)
    started = time.monotonic()
    while time.monotonic() - started < 3 * IDLE_S:
        ws.send_text(" ")  # blank text keeps the utterance open and makes no audio
        time.sleep(IDLE_S / 3)
    ws.send_json({"type": "end"})
    assert ws.receive_json() == {"type": "done"}
    socket.__exit__(None, None, None)


def test_a_binary_frame_is_refused_with_an_error_frame(api: Api) -> None:
    socket, ws = _ready_socket(api)
    ws.send_bytes(b"\x00\x01 not text")
    assert "binary" in _closed_with(ws, "binary_frame", 1003)
    socket.__exit__(None, None, None)

    with api.client.websocket_connect("/v1/speech/ws", headers=api.alice) as ws:
        ws.send_bytes(b"{}")  # as the first message, too
        _closed_with(ws, "binary_frame", 1003)
    assert _speak(api) == 200  # the refused sockets gave their places back


def test_text_refused_as_too_long_costs_nothing(tmp_path: Path) -> None:
    with running_api(tmp_path, max_job_chars=40) as api:
        admin = api.key("root", admin=True)
        frugal = api.key("carol", chars_per_day=100)
        socket, ws = _ready_socket(api, frugal)
        ws.send_text("Twelve chars")
        ws.send_text("x" * 39)  # 51 characters in one utterance: refused
        _closed_with(ws, "text_too_long", 1007)
        socket.__exit__(None, None, None)
        usage = api.client.get("/v1/admin/usage", headers=admin, params={"owner": "carol"})
        (row,) = usage.json()["usage"]
        assert row["chars_today"] == len("Twelve chars")


@pytest.mark.parametrize(
    "bad", ["nul\x00name", "esc\x1b[31mred", "two\nlines", "bell\x07", "ls\u2028x"]
)
def test_voice_names_refuse_control_characters(api: Api, bad: str) -> None:
    created = create_voice(api, bad)
    assert "control characters" in assert_error(created, 400, "invalid_name")
    voice_id = create_voice(api, "plain name").json()["id"]
    renamed = api.client.patch(f"/v1/voices/{voice_id}", headers=api.alice, json={"name": bad})
    assert_error(renamed, 400, "invalid_name")
    listed = api.client.get("/v1/voices", headers=api.alice).json()["voices"]
    assert [voice["name"] for voice in listed] == ["plain name"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/voices", "GET, POST"),
        ("POST", "/v1/voices/some-id", "DELETE, GET, PATCH"),
        ("GET", "/v1/speech", "POST"),
        ("PUT", "/upload-voice", "POST"),
    ],
)
def test_a_405_names_the_methods_the_path_takes(
    api: Api, method: str, path: str, allowed: str
) -> None:
    response = api.client.request(method, path, headers=api.alice)
    assert allowed in assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allowed


class _SpeechFor:
    """A speech detector that finds exactly ``seconds`` of speech at the start."""

    def __init__(self, seconds: float) -> None:
        self.windows = int(seconds / WINDOW_SECONDS)

    def speech_mask(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        mask = np.zeros(int(len(audio) / sample_rate / WINDOW_SECONDS) + 1, dtype=bool)
        mask[: self.windows] = True
        return mask


def test_a_clip_just_short_of_the_minimum_never_reads_as_the_minimum() -> None:
    minimum = get_settings().min_speech_seconds
    detector = _SpeechFor(minimum - 0.02)  # 62 windows of 32 ms: 1.984 s
    with pytest.raises(InvalidAudio) as caught:
        prepare_reference(with_pauses(lead=0.5, speech=3.0, tail=0.5), RATE, detector)
    shown = float(re.search(r"only (\d+(?:\.\d+)?) seconds", str(caught.value)).group(1))
    assert shown < minimum, caught.value


def test_a_multipart_body_cut_before_its_end_is_refused(api: Api) -> None:
    boundary = "cut-here"
    audio = api.reference.read_bytes()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\ncut\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="consent"\r\n\r\ntrue\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="me.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    whole = head + audio + f"\r\n--{boundary}--\r\n".encode()
    headers = {**api.alice, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    for body in (whole[: len(head) + int(len(audio) * 0.6)], whole[:-4]):
        cut = api.client.post("/v1/voices", headers=headers, content=body)
        assert "cut off" in assert_error(cut, 400, "invalid_upload")
    assert api.client.get("/v1/voices", headers=api.alice).json()["voices"] == []
    made = api.client.post("/v1/voices", headers=headers, content=whole)
    assert made.status_code == 201, made.text


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """The folder and all in it made immutable (root ignores chmod, not chattr)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chattr", "-R", "+i", str(folder)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)


def test_readiness_fails_while_the_store_refuses_writes(api: Api, tmp_path: Path) -> None:
    assert api.client.get("/readyz").status_code == 200
    with unwritable(tmp_path / "objects"):
        refused = api.client.get("/readyz")
        assert refused.status_code == 503
        assert refused.json()["checks"]["storage"] == "unavailable"
    assert api.client.get("/readyz").status_code == 200
    assert not list((tmp_path / "objects").rglob("ready-probe-*"))  # each probe cleans up


def _raw_request(url: str, head: str, body_chunks: Iterable[bytes] = ()) -> bytes:
    """Send a hand-made HTTP/1.1 request and return what the server answered first."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode())
        try:
            for chunk in body_chunks:
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the body was all sent
        return _read_answer(connection)


def _read_answer(connection: socket.socket) -> bytes:
    """One HTTP answer: its head, then as many body bytes as its Content-Length says."""
    answer = b""
    while True:
        head, separator, body = answer.partition(b"\r\n\r\n")
        if separator:
            length = re.search(rb"content-length: *(\d+)", head.lower())
            if len(body) >= (int(length[1]) if length else 0):
                return answer
        piece = connection.recv(65536)
        if not piece:
            return answer
        answer += piece


def test_bodies_over_the_limit_are_refused_before_they_are_read(tmp_path: Path) -> None:
    limit = 64 * 1024
    with live_server(tmp_path, FakeEngine(), max_request_bytes=limit) as (url, _app):
        declared = _raw_request(
            url,
            "POST /v1/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 1073741824\r\n\r\n",
        )
        assert declared.startswith(b"HTTP/1.1 413"), declared[:200]
        assert b"payload_too_large" in declared

        def chunks() -> Iterator[bytes]:
            for _ in range(400):  # 400 chunks of 16 KiB, 6.4 MB in all, with no key
                piece = b"x" * 16384
                yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
            yield b"0\r\n\r\n"

        chunked = _raw_request(
            url,
            "POST /v1/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n",
            chunks(),
        )
        assert chunked.startswith(b"HTTP/1.1 413"), chunked[:200]

        small = httpx.post(f"{url}/v1/speech", json={"text": "Hi.", "voice": FAKE_STOCK_VOICE})
        assert small.status_code == 401  # within the limit: the key is what it lacks


MIGRATE_IN_A_NEW_PROCESS = """
import sys
from voiceclone.db import migrate
migrate(sys.argv[1])
"""


def test_replicas_starting_together_on_a_fresh_database_take_turns_migrating() -> None:
    from support.servers import temporary_postgres_database

    from voiceclone.db.migrate import current_revision, head_revision

    with temporary_postgres_database() as url:
        starters = [
            subprocess.Popen(
                [sys.executable, "-c", MIGRATE_IN_A_NEW_PROCESS, url],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        failures = [p.stderr.read() for p in starters if p.wait(timeout=120) != 0]
        assert not failures, failures[0]
        assert current_revision(url) == head_revision()


def test_temporary_files_live_under_home_and_a_dead_process_s_are_removed_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    scratch = tmp_path / "home" / SCRATCH_DIR
    left_behind = scratch / str(finished.pid) / "job-half-written.wav"
    left_behind.parent.mkdir(parents=True)
    left_behind.write_bytes(b"RIFF")
    ours = scratch / str(os.getpid()) / "in-use.tmp"
    ours.parent.mkdir(parents=True)
    ours.write_bytes(b"busy")

    system_temp = tmp_path / "system-temp"
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    with unwritable(system_temp), running_api(tmp_path) as api:
        assert not left_behind.parent.exists()  # the killed process's files are gone
        assert ours.exists()  # a running process's are not
        ours.unlink()
        assert create_voice(api).status_code == 201
        body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE, "format": "mp3"}
        job = api.client.post("/v1/jobs", headers=api.alice, json=body).json()
        assert api.wait_for_job(job["id"])["status"] == "succeeded"
        converted = api.client.get(f"/v1/jobs/{job['id']}/audio?format=wav", headers=api.alice)
        assert converted.status_code == 200
    # uploads, renders and conversions were made there (the system's temp refused them),
    # and each was cleaned up
    assert ours.parent.is_dir() and not list(ours.parent.rglob("*"))


def _stored(tmp_path: Path) -> set[str]:
    root = tmp_path / "objects"
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def test_a_delete_during_a_storage_outage_changes_nothing(api: Api, tmp_path: Path) -> None:
    voice_id = create_voice(api).json()["id"]
    body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
    job_id = api.client.post("/v1/jobs", headers=api.alice, json=body).json()["id"]
    assert api.wait_for_job(job_id)["status"] == "succeeded"
    before = _stored(tmp_path)
    assert any(key.startswith("results/") for key in before)
    assert any(key.startswith("voices/") for key in before)

    with unwritable(tmp_path / "objects"):
        for path in (f"/v1/jobs/{job_id}", f"/v1/voices/{voice_id}"):
            refused = api.client.delete(path, headers=api.alice)
            assert refused.status_code == 503, refused.text
            assert api.client.get(path, headers=api.alice).status_code == 200
    assert _stored(tmp_path) == before

    for path in (f"/v1/jobs/{job_id}", f"/v1/voices/{voice_id}"):
        assert api.client.delete(path, headers=api.alice).status_code == 204
        assert api.client.get(path, headers=api.alice).status_code == 404
    assert not {key for key in _stored(tmp_path) if not key.startswith("health/")}


def test_the_janitor_removes_objects_no_row_points_to(api: Api, tmp_path: Path) -> None:
    voice_id = create_voice(api).json()["id"]
    store = api.client.app.state.store
    orphan = f"voices/alice/{uuid.uuid4()}.wav"
    store.put_bytes(orphan, b"RIFF", "audio/wav")
    kept = _stored(tmp_path) - {orphan}
    factory = api.client.app.state.session_factory

    assert collect_garbage(factory, store, grace_seconds=3600) == []  # too fresh to judge
    assert collect_garbage(factory, store, grace_seconds=0, dry_run=True) == [orphan]
    assert orphan in _stored(tmp_path)
    assert collect_garbage(factory, store, grace_seconds=0) == [orphan]
    assert _stored(tmp_path) == kept  # the voice's own sample stays
    assert api.client.get(f"/v1/voices/{voice_id}", headers=api.alice).status_code == 200


def test_voiceclone_storage_gc_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from voiceclone.cli import app as cli

    settings = api_settings(tmp_path)
    for name in ("database_url", "storage_url", "home"):
        monkeypatch.setenv(f"VOICECLONE_{name.upper()}", str(getattr(settings, name)))
    get_settings.cache_clear()
    try:
        store = open_store(settings.storage_url, settings)
        store.put_bytes(f"results/bob/{uuid.uuid4()}.wav", b"RIFF")
        listed = CliRunner().invoke(cli, ["storage", "gc", "--grace-seconds", "0", "--dry-run"])
        assert listed.exit_code == 0 and "Would remove 1 object" in listed.output
        removed = CliRunner().invoke(cli, ["storage", "gc", "--grace-seconds", "0"])
        assert removed.exit_code == 0 and "Removed 1 object" in removed.output
        assert store.list_keys("results") == []
    finally:
        get_settings.cache_clear()


def test_a_job_waits_out_a_database_lock_longer_than_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICECLONE_SQLITE_BUSY_TIMEOUT_MS", "100")
    monkeypatch.setenv("VOICECLONE_JOB_PROGRESS_INTERVAL_SECONDS", "0.05")
    get_settings.cache_clear()
    slow = FakeEngine(chunk_delay=0.3)  # a job of several chunks, under way for a while
    try:
        with running_api(tmp_path, slow) as api:
            text = " ".join(f"Sentence number {n}." for n in range(12))
            body = {"text": text, "voice": FAKE_STOCK_VOICE}
            job_id = api.client.post("/v1/jobs", headers=api.alice, json=body).json()["id"]
            wait_until(lambda: slow.chunks_made > 0, timeout=10)
            locker = sqlite3.connect(tmp_path / "voiceclone.db", isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")  # held ten times the busy timeout and more
            during = api.client.get(f"/v1/jobs/{job_id}", headers=api.alice).json()["status"]
            time.sleep(1.5)
            locker.execute("COMMIT")
            locker.close()
            finished = api.wait_for_job(job_id)
    finally:
        get_settings.cache_clear()
    assert during == "running"  # the lock came while the job was speaking
    assert finished["status"] == "succeeded", finished


class _CountingEngine(FakeEngine):
    """Clones slowly and counts how many clones are being made at once."""

    def __init__(self) -> None:
        super().__init__()
        self.cloning = self.most_at_once = 0

    def create_voice(self, samples, languages=()):
        with self._lock:
            self.cloning += 1
            self.most_at_once = max(self.most_at_once, self.cloning)
        try:
            time.sleep(0.3)
            return super().create_voice(samples, languages)
        finally:
            with self._lock:
                self.cloning -= 1


def test_a_burst_of_uploads_is_analysed_a_few_at_a_time(tmp_path: Path) -> None:
    engine = _CountingEngine()
    with live_server(tmp_path, engine, voice_analysis_slots=2) as (url, app):
        with app.state.session_factory() as session:
            token = create_api_key(session, "alice")
        audio = write_speech_wav(tmp_path / "me.wav").read_bytes()

        def upload(number: int) -> int:
            return httpx.post(
                f"{url}/v1/voices",
                headers={"Authorization": f"Bearer {token}"},
                data={"name": f"voice {number}", "consent": "true"},
                files={"files": ("me.wav", audio, "audio/wav")},
                timeout=60,
            ).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(upload, range(6)))
    assert statuses == [201] * 6
    assert engine.most_at_once == 2
