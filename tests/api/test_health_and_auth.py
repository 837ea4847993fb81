"""Health, readiness, authentication and the error shape, in-process."""

from __future__ import annotations

import pytest
from support.api import (
    Api,
    assert_error,
    bearer,
)


def test_health_needs_no_key(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "storage": "ok", "engine": "ok"}


def test_readiness_reports_a_broken_store(api: Api, monkeypatch) -> None:
    def broken(key: str) -> bool:
        raise OSError("disk gone")

    monkeypatch.setattr(api.client.app.state.store, "exists", broken)
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "ok", "storage": "unavailable", "engine": "ok"},
        "modes": {"consent": "attest", "watermark": "on"},
    }
    assert api.client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/voices"),
        ("POST", "/v1/voices"),
        ("GET", "/v1/jobs/00000000-0000-0000-0000-000000000000"),
        ("POST", "/v1/jobs"),
        ("POST", "/v1/speech"),
        ("POST", "/v1/audio/speech"),
        ("GET", "/v1/audio/voices"),
        ("GET", "/v1/models"),
        ("POST", "/upload-voice"),
        ("POST", "/synthesize"),
        ("GET", "/results/stream?blob=results/alice/x.wav"),
    ],
)
def test_every_route_needs_a_valid_key(api: Api, method: str, path: str) -> None:
    missing = api.client.request(method, path)
    assert "missing api key" in assert_error(missing, 401, "unauthorized").lower()
    assert missing.headers["www-authenticate"] == "Bearer"
    bad = api.client.request(method, path, headers=bearer("vc_not-a-real-key"))
    assert "invalid api key" in assert_error(bad, 401, "unauthorized").lower()
    basic = api.client.request(method, path, headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert_error(basic, 401, "unauthorized")


def test_framework_errors_use_the_same_shape(api: Api) -> None:
    assert_error(api.client.get("/nope", headers=api.alice), 404, "not_found")
    assert_error(api.client.put("/v1/voices", headers=api.alice), 405, "method_not_allowed")
    missing_field = api.client.post("/v1/jobs", headers=api.alice, json={"voice": "x"})
    assert "text: is required" in assert_error(missing_field, 422, "invalid_request")
    not_json = api.client.post(
        "/v1/speech", headers={**api.alice, "Content-Type": "application/json"}, content=b"{"
    )
    assert_error(not_json, 422, "invalid_request")


def test_openapi_docs_are_served(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/v1/voices", "/v1/jobs/{job_id}/audio", "/v1/audio/speech", "/upload-voice"):
        assert path in paths
    upload = paths["/v1/voices"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
