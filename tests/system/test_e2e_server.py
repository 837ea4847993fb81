"""End to end against a real ``voiceclone serve`` process with the real Kokoro engine.

Each server gets its own database and object store in a temp folder
(``VOICECLONE_DATABASE_URL``, ``VOICECLONE_STORAGE_URL``) while the model files come from
the usual home. Texts are short: synthesis runs at about 0.3x real time on this CPU.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from support.servers import E2E_UPLOAD_LIMIT, STARTUP_SECONDS, Server, free_port

from voiceclone.audio.decode import decode_audio

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, dict[str, str]]:
    return {
        owner: {"Authorization": f"Bearer {server.create_key(owner)}"} for owner in ("alice", "bob")
    }


@pytest.fixture(scope="module")
def reference(reference_voices: dict[str, Path]) -> Path:
    return next(iter(reference_voices.values()))


@pytest.fixture(scope="module")
def uploaded(server: Server, keys, reference: Path) -> dict:
    """Alice's voice, uploaded with the original route."""
    with reference.open("rb") as wav:
        response = httpx.post(
            f"{server.url}/upload-voice",
            headers=keys["alice"],
            data={"user_id": "alice", "consent": "true"},
            files={"file": (reference.name, wav, "audio/wav")},
            timeout=120,
        )
    assert response.status_code == 200, response.text
    return response.json()


def _wait_for_job(client: httpx.Client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def _wait_until_running(client: httpx.Client, job_id: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while client.get(f"/v1/jobs/{job_id}").json()["status"] != "running":
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def _stored_results(root: Path) -> list[str]:
    """Every file under the store's results/ (temporary leftovers included)."""
    objects = root / "objects"
    files = (p for p in (objects / "results").rglob("*") if p.is_file())
    return sorted(p.relative_to(objects).as_posix() for p in files)


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text
    return response.json()["error"]["message"]


def _speech_seconds(audio: np.ndarray, rate: int = 24_000) -> float:
    return float(np.sum(np.abs(audio) > 0.02)) / rate


def test_original_curl_flow(server: Server, keys, uploaded: dict, transcribe) -> None:
    """upload-voice -> synthesize -> poll -> stream: a playable, seekable result."""
    assert uploaded["blob"].startswith("voices/alice/")
    text = "The quick brown fox jumps over the lazy dog."
    with httpx.Client(base_url=server.url, headers=keys["alice"], timeout=60) as client:
        queued = client.post(
            "/synthesize",
            json={"user_id": "alice", "text": text, "input_voice_gcs": uploaded["blob"]},
        )
        assert queued.status_code == 202, queued.text
        job = queued.json()
        done = _wait_for_job(client, job["job"])
        assert done["status"] == "succeeded", done

        result = client.get(job["proxy_stream_url"])
        assert result.status_code == 200
        assert result.headers["content-type"] == "audio/wav"
        assert result.headers["accept-ranges"] == "bytes"
        assert int(result.headers["content-length"]) == len(result.content)
        samples, rate = sf.read(io.BytesIO(result.content), dtype="float32")
        assert rate == 24_000
        assert len(samples) / rate == pytest.approx(done["duration_seconds"], abs=0.01)
        heard = transcribe(decode_audio(result.content, 16_000)).lower()
        assert "fox" in heard and "dog" in heard, heard

        seek = len(result.content) // 2
        tail = client.get(job["proxy_stream_url"], headers={"Range": f"bytes={seek}-"})
        assert tail.status_code == 206
        assert tail.headers["content-range"] == (
            f"bytes {seek}-{len(result.content) - 1}/{len(result.content)}"
        )
        assert tail.content == result.content[seek:]
        same = client.get(job["result_url"], headers={"Range": "bytes=0-43"})
        assert same.status_code == 206 and same.content == result.content[:44]


def test_original_curl_flow_on_gcs(
    tmp_path: Path, gcs_endpoint: str, reference: Path, transcribe
) -> None:
    """The same flow with gs:// storage (the GCS emulator): real gs:// URLs come back."""
    from support.servers import create_gcs_bucket

    bucket = create_gcs_bucket(gcs_endpoint)
    env = {"VOICECLONE_STORAGE_URL": f"gs://{bucket}", "VOICECLONE_GCS_ENDPOINT": gcs_endpoint}
    on_gcs = Server(tmp_path, extra_env=env)
    on_gcs.start()
    try:
        alice = {"Authorization": f"Bearer {on_gcs.create_key('alice')}"}
        with httpx.Client(base_url=on_gcs.url, headers=alice, timeout=60) as client:
            with reference.open("rb") as wav:
                uploaded = client.post(
                    "/upload-voice",
                    data={"user_id": "alice", "consent": "true"},
                    files={"file": (reference.name, wav, "audio/wav")},
                ).json()
            assert uploaded["gcs_url"] == f"gs://{bucket}/{uploaded['blob']}"
            queued = client.post(
                "/synthesize",
                json={
                    "user_id": "alice",
                    "text": "A fox ran by.",
                    "input_voice_gcs": uploaded["blob"],
                },
            ).json()
            assert queued["result_gs_url"] == f"gs://{bucket}/{queued['result_blob']}"
            assert _wait_for_job(client, queued["job"])["status"] == "succeeded"
        played = httpx.get(on_gcs.url + queued["proxy_stream_url"])
        assert played.status_code == 200 and played.content[:4] == b"RIFF"
        assert "fox" in transcribe(decode_audio(played.content, 16_000)).lower()
        seek = httpx.get(on_gcs.url + queued["proxy_stream_url"], headers={"Range": "bytes=-100"})
        assert seek.status_code == 206 and seek.content == played.content[-100:]
    finally:
        on_gcs.stop()


def test_owner_isolation_over_http(server: Server, keys, uploaded: dict) -> None:
    blob = uploaded["blob"]
    name = blob.rsplit("/", 1)[1]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get(f"/results/stream?blob={blob}", headers=keys["alice"]).status_code == 200
        raw_queries = [
            f"blob={blob}",
            f"blob=voices/bob/../alice/{name}",
            f"blob=../alice/{name}",
            f"blob=/{blob}",
            f"blob=voices%2Fbob%2F..%2Falice%2F{name}",
            f"blob=voices%252Fbob%252F..%252Falice%252F{name}",
            f"blob=%2E%2E%2F%2E%2E%2Fvoices%2Falice%2F{name}",
            "blob=/etc/passwd",
            "blob=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        ]
        for query in raw_queries:
            response = client.get(f"/results/stream?{query}", headers=keys["bob"])
            _error(response, 404, "not_found")
        voice = f"/v1/voices/{uploaded['voice_id']}"
        for method in ("GET", "DELETE"):
            _error(client.request(method, voice, headers=keys["bob"]), 404, "not_found")
        assert client.get("/v1/voices", headers=keys["bob"]).json() == {"voices": []}
        stolen = client.post(
            "/synthesize", headers=keys["bob"], json={"text": "hi", "input_voice_gcs": blob}
        )
        _error(stolen, 404, "not_found")
        assert client.get(voice, headers=keys["alice"]).status_code == 200


def test_openai_sdk_speaks_in_a_cloned_voice(server: Server, keys, uploaded: dict) -> None:
    from openai import AuthenticationError, OpenAI

    token = keys["alice"]["Authorization"].removeprefix("Bearer ")
    client = OpenAI(base_url=f"{server.url}/v1", api_key=token, max_retries=0)
    text = "Hello from the official client."

    speech = client.audio.speech.create(
        model="tts-1", voice=uploaded["voice_id"], input=text, response_format="wav"
    )
    audio, rate = sf.read(io.BytesIO(speech.content), dtype="float32")
    assert rate == 24_000 and _speech_seconds(audio) > 0.5

    received = bytearray()
    pieces = 0
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice=uploaded["voice_id"], input=text
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        for piece in response.iter_bytes():
            received += piece
            pieces += 1
    decoded = decode_audio(bytes(received), 24_000)
    assert _speech_seconds(decoded) > 0.5

    assert {m.id for m in client.models.list()} >= {"tts-1", "kokoro"}
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=f"{server.url}/v1", api_key="vc_wrong", max_retries=0).audio.speech.create(
            model="tts-1", voice="alloy", input=text
        )


def test_streamed_speech_starts_before_the_text_is_spoken(server: Server, keys) -> None:
    text = (
        "Streaming matters for long answers. The first words should play while the rest "
        "is still being made. This third sentence makes the text long enough to tell."
    )
    body = {"text": text, "voice": "af_heart", "format": "pcm"}
    with httpx.Client(base_url=server.url, headers=keys["alice"], timeout=120) as client:
        start = time.perf_counter()
        first_byte = None
        size = 0
        with client.stream("POST", "/v1/speech", json=body) as response:
            assert response.status_code == 200
            for data in response.iter_bytes():
                if first_byte is None and data:
                    first_byte = time.perf_counter() - start
                size += len(data)
        total = time.perf_counter() - start
    assert first_byte is not None
    audio_seconds = size / 2 / 24_000
    assert audio_seconds > 5
    print(f"first byte {first_byte:.3f} s, all {total:.3f} s for {audio_seconds:.1f} s of audio")
    assert first_byte < total / 3, (first_byte, total)


def test_bad_requests_get_clear_errors(server: Server, keys, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        good = {"text": "Hello.", "voice": "af_heart"}
        _error(client.post("/v1/speech", json=good), 401, "unauthorized")
        wrong_key = {"Authorization": "Bearer vc_nope"}
        _error(client.post("/v1/speech", json=good, headers=wrong_key), 401, "unauthorized")
        alice = keys["alice"]
        cases = [
            ({**good, "text": "a" * 100_001}, 400, "text_too_long"),
            ({**good, "voice": "nobody"}, 404, "not_found"),
            ({**good, "format": "wma"}, 400, "unsupported_format"),
            ({**good, "speed": 10}, 400, "invalid_speed"),
        ]
        for body, status, code in cases:
            _error(client.post("/v1/speech", json=body, headers=alice), status, code)
            _error(client.post("/v1/jobs", json=body, headers=alice), status, code)
        openai_body = {"model": "tts-1", "input": "a" * 4097, "voice": "alloy"}
        _error(
            client.post("/v1/audio/speech", json=openai_body, headers=alice), 400, "text_too_long"
        )

        big = np.random.default_rng(1).bytes(E2E_UPLOAD_LIMIT + 100_000)
        oversized = client.post(
            "/upload-voice", headers=alice, files={"file": ("big.wav", big, "audio/wav")}
        )
        assert "too large" in _error(oversized, 413, "payload_too_large")
        text_file = client.post(
            "/v1/voices",
            headers=alice,
            data={"consent": "true", "name": "notes"},
            files={"files": ("notes.txt", b"hello, this is text\n" * 100, "text/plain")},
        )
        assert "not an audio file" in _error(text_file, 400, "invalid_audio")


def test_killed_server_resumes_its_job(tmp_path: Path, asset_paths) -> None:
    """SIGKILL mid-job, start again: the job finishes, with exactly one result object."""
    first = Server(tmp_path)
    token = first.create_key("carol")
    first.start()
    headers = {"Authorization": f"Bearer {token}"}
    text = (
        "This job is interrupted on purpose. The server is killed while it speaks, "
        "and when it comes back it must finish the job exactly once."
    )
    try:
        with httpx.Client(base_url=first.url, headers=headers, timeout=30) as client:
            job = client.post("/v1/jobs", json={"text": text, "voice": "af_heart"}).json()
            _wait_until_running(client, job["id"], 60, first.log)
        first.kill()
    finally:
        first.stop()

    second = Server(tmp_path, port=free_port())
    second.start()
    try:
        with httpx.Client(base_url=second.url, headers=headers, timeout=30) as client:
            done = _wait_for_job(client, job["id"])
            assert done["status"] == "succeeded", done
            assert done["attempts"] == 2
            audio = client.get(f"/v1/jobs/{job['id']}/audio")
            assert audio.status_code == 200
            samples, _ = sf.read(io.BytesIO(audio.content), dtype="float32")
            assert _speech_seconds(samples) > 3
    finally:
        second.stop()
    assert _stored_results(tmp_path) == [
        f"results/carol/{job['id']}-words.json",
        f"results/carol/{job['id']}.wav",
    ]


def test_websocket_speaks_text_as_it_arrives(server: Server, keys) -> None:
    """Audio for a finished sentence comes back before the client says it is done."""
    import json

    from websockets.sync.client import connect

    url = server.url.replace("http://", "ws://") + "/v1/speech/ws"
    with connect(url, additional_headers=keys["alice"], proxy=None) as ws:
        ws.send(json.dumps({"voice": "af_heart", "format": "pcm"}))
        ready = json.loads(ws.recv(timeout=30))
        assert ready["type"] == "ready" and ready["sample_rate"] == 24_000
        for word in ["The", "first", "sentence", "is", "finished", "here.", "And"]:
            ws.send(word + " ")
        early = ws.recv(timeout=60)  # no flush yet: the first sentence is spoken already
        assert isinstance(early, bytes) and len(early) > 0
        ws.send("the second one ends now.")
        ws.send(json.dumps({"type": "end"}))
        audio = bytearray(early)
        words = []
        while (frame := _audio_or_frame(ws.recv(timeout=60))) != {"type": "done"}:
            if isinstance(frame, bytes):
                audio += frame
            else:
                assert frame["type"] == "word", frame
                words.append(frame["text"])
        assert words[:3] == ["The", "first", "sentence"] and words[-1] == "now."
    samples = np.frombuffer(bytes(audio), dtype="<i2").astype(np.float32) / 32767
    # Both sentences were spoken: one alone has under a second of loud speech.
    assert _speech_seconds(samples) > 1.2


def _start_worker(server: Server, name: str, **env: str) -> subprocess.Popen[bytes]:
    """A ``voiceclone worker`` process sharing the server's database, store and broker."""
    with (server.root / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "voiceclone.cli", "worker"],
            env={**server.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


#: From a worker's death to its job finished by an idle one: the 3-s visibility timeout, one
#: scan for unacknowledged jobs and the speech itself (kombu's default scan alone waits up to
#: 100 s).
TAKEOVER_SECONDS = 45


def test_scale_out_workers_run_jobs_and_take_over_a_dead_ones(tmp_path: Path, asset_paths):
    """API with a Celery queue on the real Redis: it only sends jobs; worker processes run
    them; when a worker is SIGKILLed mid-job, an idle one finishes it, once, soon after the
    visibility timeout."""
    import redis

    queue = f"voiceclone-e2e-{uuid.uuid4().hex[:8]}"
    broker = os.environ.get("VOICECLONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    api = Server(
        tmp_path,
        extra_env={
            "VOICECLONE_QUEUE_URL": broker,
            "VOICECLONE_QUEUE_NAME": queue,
            "VOICECLONE_QUEUE_VISIBILITY_TIMEOUT_SECONDS": "3",
        },
    )
    headers = {"Authorization": f"Bearer {api.create_key('dana')}"}
    api.start()
    metrics_ports = {name: free_port() for name in ("worker-1", "worker-2")}
    workers = {
        name: _start_worker(api, name, VOICECLONE_WORKER_METRICS_PORT=str(port))
        for name, port in metrics_ports.items()
    }
    text = (
        "This job goes through the broker. The first worker is killed while it speaks, "
        "and the second one must finish the job exactly once."
    )
    try:
        _wait_until_ready(workers, tmp_path)
        with httpx.Client(base_url=api.url, headers=headers, timeout=30) as client:
            job = client.post("/v1/jobs", json={"text": text, "voice": "af_heart"}).json()
            taker = _taker_once_running(client, job["id"], workers, tmp_path)
            workers[taker].send_signal(signal.SIGKILL)
            workers[taker].wait(timeout=30)

            done = _wait_for_job(client, job["id"], timeout=TAKEOVER_SECONDS)
            assert done["status"] == "succeeded", done
            assert done["attempts"] == 2
            audio = client.get(f"/v1/jobs/{job['id']}/audio")
            samples, _ = sf.read(io.BytesIO(audio.content), dtype="float32")
            assert _speech_seconds(samples) > 3
            survivor = next(name for name in workers if name != taker)
            scraped = httpx.get(f"http://127.0.0.1:{metrics_ports[survivor]}/metrics").text
            assert 'voiceclone_audio_seconds_total{route="job"}' in scraped
    finally:
        _stop_all(workers.values())
        api.stop()
        redis.Redis.from_url(broker).delete(queue)
    assert _stored_results(tmp_path) == [
        f"results/dana/{job['id']}-words.json",
        f"results/dana/{job['id']}.wav",
    ]
    worker_lines = (tmp_path / f"{survivor}.log").read_text().splitlines()
    records = [json.loads(line) for line in worker_lines if line.strip()]
    assert all("severity" in record for record in records)  # Celery's own lines too
    assert any(record.get("job_id") == job["id"] for record in records)


#: A worker told to stop (SIGTERM, as Kubernetes does) must be gone well within a pod's
#: default grace period of 30 s.
HAND_BACK_SECONDS = 20


def test_a_worker_told_to_stop_hands_its_job_back_to_another_at_once(tmp_path: Path, asset_paths):
    """SIGTERM mid-job (a scale-down, a rolling update): the worker stops between two chunks
    and gives the job back to the broker, and an idle worker finishes it, once, long before
    Redis's visibility timeout (an hour here) would have handed it over."""
    import redis

    queue = f"voiceclone-e2e-{uuid.uuid4().hex[:8]}"
    broker = os.environ.get("VOICECLONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    api = Server(
        tmp_path, extra_env={"VOICECLONE_QUEUE_URL": broker, "VOICECLONE_QUEUE_NAME": queue}
    )
    headers = {"Authorization": f"Bearer {api.create_key('fay')}"}
    api.start()
    workers = {name: _start_worker(api, name) for name in ("worker-a", "worker-b")}
    text = " ".join(
        [
            "This job is spoken by one of two workers, which is told to stop while it speaks.",
            "It must hand the job back between two sentences, and the other worker must",
            "finish it from the start, exactly once. A few more sentences keep it busy:",
            "the river ran quietly past the mill, the bells rang at noon, and the baker",
            "closed his shop early because the whole village had gone to the fair.",
        ]
    )
    try:
        _wait_until_ready(workers, tmp_path)
        with httpx.Client(base_url=api.url, headers=headers, timeout=30) as client:
            job = client.post("/v1/jobs", json={"text": text, "voice": "af_heart"}).json()
            taker = _taker_once_running(client, job["id"], workers, tmp_path)
            workers[taker].send_signal(signal.SIGTERM)
            told_at = time.monotonic()
            workers[taker].wait(timeout=HAND_BACK_SECONDS)
            assert time.monotonic() - told_at < HAND_BACK_SECONDS
            done = _wait_for_job(client, job["id"], timeout=TAKEOVER_SECONDS)
            assert done["status"] == "succeeded", done
            assert done["attempts"] == 2
    finally:
        _stop_all(workers.values())
        api.stop()
        redis.Redis.from_url(broker).delete(queue, f"{queue}.kokoro")
    assert "handed back" in (tmp_path / f"{taker}.log").read_text()
    assert _stored_results(tmp_path) == [
        f"results/fay/{job['id']}-words.json",
        f"results/fay/{job['id']}.wav",
    ]


def _audio_or_frame(message: bytes | str) -> bytes | dict:
    return message if isinstance(message, bytes) else json.loads(message)


RABBITMQ_URL = os.environ.get("VOICECLONE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
TAKEOVER_SECONDS = 60


def test_on_rabbitmq_an_idle_worker_takes_over_a_killed_one_s_job_at_once(
    tmp_path: Path, asset_paths
):
    """The broker redelivers a job the moment its worker's connection drops (kill -9, an OOM
    kill, a pod evicted), not after a visibility timeout: an idle worker finishes it, once."""
    queue = f"voiceclone-e2e-{uuid.uuid4().hex[:8]}"
    api = Server(
        tmp_path, extra_env={"VOICECLONE_QUEUE_URL": RABBITMQ_URL, "VOICECLONE_QUEUE_NAME": queue}
    )
    headers = {"Authorization": f"Bearer {api.create_key('erin')}"}
    api.start()
    workers = {name: _start_worker(api, name) for name in ("worker-a", "worker-b")}
    text = "This job is taken by one of two workers. That one is killed while it speaks."
    try:
        _wait_until_ready(workers, tmp_path)
        with httpx.Client(base_url=api.url, headers=headers, timeout=30) as client:
            job = client.post("/v1/jobs", json={"text": text, "voice": "af_heart"}).json()
            taker = _taker_once_running(client, job["id"], workers, tmp_path)
            workers[taker].send_signal(signal.SIGKILL)
            workers[taker].wait(timeout=30)
            killed_at = time.monotonic()
            done = _wait_for_job(client, job["id"], timeout=TAKEOVER_SECONDS)
            assert time.monotonic() - killed_at < TAKEOVER_SECONDS
            assert done["status"] == "succeeded", done
            assert done["attempts"] == 2
    finally:
        _stop_all(workers.values())
        api.stop()
        _delete_amqp_queues(queue)
    assert _stored_results(tmp_path) == [
        f"results/erin/{job['id']}-words.json",
        f"results/erin/{job['id']}.wav",
    ]


def _wait_until_ready(workers: dict[str, subprocess.Popen[bytes]], root: Path) -> None:
    for name in workers:
        _wait_for_line(root / f"{name}.log", "ready", STARTUP_SECONDS)


def _taker_once_running(
    client: httpx.Client, job_id: str, workers: dict[str, subprocess.Popen[bytes]], root: Path
) -> str:
    """The name of the worker that took the job, once the job runs."""
    _wait_until_running(client, job_id, STARTUP_SECONDS, root / f"{next(iter(workers))}.log")
    return next(
        name for name in workers if job_id in (root / f"{name}.log").read_text(errors="replace")
    )


def _stop_all(workers: Iterable[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)


def _wait_for_line(log: Path, word: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while word not in (log.read_text(errors="replace") if log.exists() else ""):
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.2)


def _delete_amqp_queues(prefix: str) -> None:
    from kombu import Connection

    with Connection(RABBITMQ_URL) as connection:
        channel = connection.channel()
        for suffix in ("", ".kokoro"):
            with contextlib.suppress(Exception):
                channel.queue_delete(prefix + suffix)


#: How long the database or the broker stays away in the restart tests.
OUTAGE_SECONDS = 6
LONG_JOB_TEXT = " ".join(
    [
        "This job is running when the service it depends on restarts under it.",
        "It must wait for the service to come back and then finish, exactly once.",
        "The river ran quietly past the mill, the bells rang at noon, and the baker",
        "closed his shop early because the whole village had gone to the fair.",
        "In the evening the lanterns were lit one by one along the harbour wall.",
    ]
)


def _scale_out_through(tmp_path: Path, owner: str, **env: str) -> tuple[Server, dict[str, str]]:
    queue = f"voiceclone-e2e-{uuid.uuid4().hex[:8]}"
    api = Server(tmp_path, extra_env={"VOICECLONE_QUEUE_NAME": queue, **env})
    headers = {"Authorization": f"Bearer {api.create_key(owner)}"}
    api.start()
    return api, headers


def _delete_redis_queue(broker: str, queue: str) -> None:
    import redis

    redis.Redis.from_url(broker).delete(queue, f"{queue}.kokoro")


def test_a_postgres_restart_delays_a_scale_out_job_but_loses_nothing(tmp_path: Path, asset_paths):
    """Postgres goes away for a few seconds (every connection dropped, new ones refused)
    while a worker speaks a job: the job waits for the database and finishes, once."""
    from sqlalchemy.engine import make_url
    from support.servers import TcpProxy, postgres_base_url, temporary_postgres_database

    broker = os.environ.get("VOICECLONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    with temporary_postgres_database() as database:
        proxy = TcpProxy(make_url(postgres_base_url()).port or 5432)
        proxy.start()
        through_proxy = make_url(database).set(port=proxy.port)
        api, headers = _scale_out_through(
            tmp_path,
            "gil",
            VOICECLONE_QUEUE_URL=broker,
            VOICECLONE_DATABASE_URL=through_proxy.render_as_string(hide_password=False),
            VOICECLONE_DATABASE_CONNECT_TIMEOUT_SECONDS="2",
        )
        workers = {"worker": _start_worker(api, "worker")}
        try:
            _wait_until_ready(workers, tmp_path)
            with httpx.Client(base_url=api.url, headers=headers, timeout=30) as client:
                body = {"text": LONG_JOB_TEXT, "voice": "af_heart"}
                job = client.post("/v1/jobs", json=body).json()
                _taker_once_running(client, job["id"], workers, tmp_path)
                proxy.stop()  # the database restarts
                time.sleep(OUTAGE_SECONDS)
                proxy.start()
                done = _wait_for_job(client, job["id"], timeout=STARTUP_SECONDS)
                assert done["status"] == "succeeded", done
                assert done["attempts"] == 1  # waited, not failed and run again
        finally:
            _stop_all(workers.values())
            api.stop()
            proxy.stop()
            _delete_redis_queue(broker, api.extra_env["VOICECLONE_QUEUE_NAME"])
    assert _stored_results(tmp_path) == [
        f"results/gil/{job['id']}-words.json",
        f"results/gil/{job['id']}.wav",
    ]


def test_a_redis_restart_delays_scale_out_jobs_but_loses_none(tmp_path: Path, asset_paths):
    """The broker (Redis) goes away for a few seconds while a worker speaks a job: that job
    finishes once, and a job queued after the broker is back runs too."""
    from support.servers import TcpProxy

    broker = os.environ.get("VOICECLONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    proxy = TcpProxy(int(broker.split(":")[2].split("/")[0]))
    proxy.start()
    through_proxy = f"redis://127.0.0.1:{proxy.port}/0"
    api, headers = _scale_out_through(tmp_path, "hal", VOICECLONE_QUEUE_URL=through_proxy)
    workers = {"worker": _start_worker(api, "worker")}
    try:
        _wait_until_ready(workers, tmp_path)
        with httpx.Client(base_url=api.url, headers=headers, timeout=30) as client:
            first = client.post("/v1/jobs", json={"text": LONG_JOB_TEXT, "voice": "af_heart"})
            job = first.json()
            _taker_once_running(client, job["id"], workers, tmp_path)
            proxy.stop()  # Redis restarts (it keeps nothing on disk here, as in a cache)
            time.sleep(OUTAGE_SECONDS)
            proxy.start()
            done = _wait_for_job(client, job["id"], timeout=STARTUP_SECONDS)
            assert done["status"] == "succeeded", done
            assert done["attempts"] == 1
            later = client.post(
                "/v1/jobs", json={"text": "After the restart.", "voice": "af_heart"}
            )
            assert later.status_code == 202, later.text
            assert _wait_for_job(client, later.json()["id"], STARTUP_SECONDS)["status"] == (
                "succeeded"
            )
    finally:
        _stop_all(workers.values())
        api.stop()
        proxy.stop()
        _delete_redis_queue(broker, api.extra_env["VOICECLONE_QUEUE_NAME"])
    assert len(_stored_results(tmp_path)) == 4  # two jobs, each its audio and its words
