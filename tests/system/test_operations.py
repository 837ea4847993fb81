"""What operators read: JSON logs as Cloud Logging takes them, and Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from support.api import Api, assert_error, create_voice, metric_samples, metric_value, running_api
from support.fakes import FAKE_STOCK_VOICE, FakeEngine
from support.servers import Server

from voiceclone.api import create_app
from voiceclone.logs import configure_logging, redact
from voiceclone.services.api_keys import create_api_key


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running


def test_metrics_cover_requests_speech_streams_jobs_and_voices(api: Api) -> None:
    before = metric_samples(api.client.get("/metrics").text)
    create_voice(api, "counted")
    create_voice(api, "refused", consent="false")
    api.client.post(
        "/v1/speech", headers=api.alice, json={"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
    )
    job = api.client.post(
        "/v1/jobs", headers=api.alice, json={"text": "A job.", "voice": FAKE_STOCK_VOICE}
    ).json()
    api.wait_for_job(job["id"])

    response = api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = metric_samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    assert grew("http_request_duration_seconds_count", route="/v1/speech", status="200") == 1
    assert grew("voiceclone_time_to_first_audio_seconds_count", route="speech") == 1
    assert grew("voiceclone_time_to_first_audio_seconds_count", route="job") == 1
    assert grew("voiceclone_real_time_factor_count", route="speech") == 1
    assert grew("voiceclone_audio_seconds_total", route="speech") > 0
    assert grew("voiceclone_engine_busy_seconds_total", route="job") >= 0
    assert grew("voiceclone_voices_created_total") == 1
    assert grew("voiceclone_uploads_refused_total", reason="consent_required") == 1
    assert metric_value(after, "voiceclone_live_streams") == 0  # the stream has ended
    assert metric_value(after, "voiceclone_jobs", status="succeeded") == 1
    assert "voiceclone_queue_depth" in after


def test_metrics_can_need_a_token(tmp_path: Path) -> None:
    with running_api(tmp_path, metrics_token="scrape-me") as api:
        assert_error(api.client.get("/metrics"), 401, "unauthorized")
        wrong = api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert_error(wrong, 401)
        allowed = api.client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert allowed.status_code == 200 and "voiceclone_live_streams" in allowed.text


def test_secrets_are_masked_in_any_record() -> None:
    line = redact(
        "GET /v1/jobs/1/audio?owner=alice&exp=1&sig=AbC_d-E Authorization: Bearer vc_" + "x" * 40
    )
    assert "AbC_d-E" not in line and "x" * 40 not in line
    assert "sig=[redacted]" in line and "Bearer [redacted]" in line


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Records as the server writes them (JSON), into a buffer."""
    import sys

    buffer = io.StringIO()
    saved = sys.stdout
    sys.stdout = buffer
    try:
        configure_logging("json", "INFO")
    finally:
        sys.stdout = saved
    root = logging.getLogger()
    yield buffer
    root.handlers = []
    logging.getLogger("uvicorn.access").disabled = False


def _records(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


class _BrokenEngine(FakeEngine):
    def stock_voice_names(self) -> list[str]:
        raise RuntimeError("the engine broke")


def test_an_unhandled_error_is_one_record_with_its_stack_trace(
    tmp_path: Path, json_logs: io.StringIO
) -> None:
    from support.api import api_settings

    app = create_app(api_settings(tmp_path), engine=_BrokenEngine())
    with TestClient(app, raise_server_exceptions=False) as client:
        with app.state.session_factory() as session:
            key = create_api_key(session, "alice")
        response = client.get(
            "/v1/audio/voices",
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": "req-42"},
        )
    assert_error(response, 500, "internal_error")
    assert response.headers["x-request-id"] == "req-42"

    errors = [r for r in _records(json_logs) if r["severity"] == "ERROR"]
    assert len(errors) == 1, errors
    (error,) = errors
    assert "RuntimeError: the engine broke" in error["stack_trace"]
    assert error["@type"].endswith("ReportedErrorEvent")
    assert error["request_id"] == "req-42" and error["owner"] == "alice"
    access = [r for r in _records(json_logs) if "httpRequest" in r]
    assert access[-1]["httpRequest"]["status"] == 500


@pytest.mark.models
def test_the_server_logs_json_for_cloud_logging(tmp_path: Path, reference_voices) -> None:
    server = Server(tmp_path)
    key = server.create_key("alice")
    server.start()
    secret_text = "This sentence must never appear in the logs."
    try:
        headers = {"Authorization": f"Bearer {key}", "User-Agent": "probe/1.0"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            spoken = client.post(
                "/v1/speech",
                json={"text": secret_text, "voice": "af_heart"},
                headers={"X-Request-ID": "trace-me-1"},
            )
            assert spoken.headers["x-request-id"] == "trace-me-1"
            job = client.post("/v1/jobs", json={"text": secret_text, "voice": "af_heart"}).json()
            link = job["urls"]["audio"]
            generated = client.get("/v1/voices").headers["x-request-id"]
            assert len(generated) == 32
        httpx.get(link)  # a signed link: its signature must not be logged
    finally:
        server.stop()

    lines = server.log.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records and len(records) == len([line for line in lines if line.strip()])
    for record in records:
        assert {"severity", "message", "time"} <= set(record), record
    access = next(r for r in records if r.get("request_id") == "trace-me-1" and "httpRequest" in r)
    assert access["owner"] == "alice"
    request = access["httpRequest"]
    assert request["requestMethod"] == "POST" and request["requestUrl"] == "/v1/speech"
    assert request["status"] == 200 and request["userAgent"] == "probe/1.0"
    assert request["latency"].endswith("s")
    job_lines = [r for r in records if r.get("job_id") == job["id"]]
    assert job_lines, "the job's records carry its id"
    everything = "\n".join(lines)
    assert key not in everything and secret_text not in everything
    signature = link.split("sig=")[1]
    assert signature not in everything
    assert any(
        "Uvicorn running" in r["message"] or "Application startup" in r["message"] for r in records
    )  # uvicorn's own records, in the same format


LOG_ONE_LINE = (
    "import logging; from voiceclone.logs import configure_logging; configure_logging(); "
    "logging.getLogger('voiceclone.test').warning('the job is done')"
)


def _logged_line(terminal: bool) -> str:
    """What one warning looks like on standard output: a terminal's, or a pipe's."""
    import os
    import pty
    import subprocess
    import sys

    if not terminal:
        command = [sys.executable, "-c", LOG_ONE_LINE]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    leader, follower = pty.openpty()
    subprocess.run([sys.executable, "-c", LOG_ONE_LINE], stdout=follower, check=True)
    os.close(follower)
    return os.read(leader, 65536).decode()


def test_logs_are_text_on_a_terminal_and_json_otherwise() -> None:
    on_terminal = _logged_line(terminal=True)
    assert "the job is done" in on_terminal
    with pytest.raises(json.JSONDecodeError):
        json.loads(on_terminal.strip().splitlines()[-1])
    record = json.loads(_logged_line(terminal=False).strip().splitlines()[-1])
    assert record["message"] == "the job is done" and record["severity"] == "WARNING"
