"""When the object store or the database goes away: 503 with Retry-After and a clear code,
nothing half-written, /readyz false — and everything works again when they are back,
without a restart. The test servers are really stopped (moto) or cut off (a TCP proxy in
front of Postgres)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from sqlalchemy.engine import make_url
from support.api import Api, assert_error, create_voice, running_api
from support.fakes import FAKE_STOCK_VOICE
from support.servers import TcpProxy, free_port, postgres_base_url, temporary_postgres_database

from voiceclone.db import migrate

FAST_FAILURE = {"storage_retry_seconds": 0.3, "storage_timeout_seconds": 2}


def _unavailable(response, code: str) -> None:
    assert "cannot be reached" in assert_error(response, 503, code)
    assert int(response.headers["retry-after"]) > 0


def _ready(api: Api) -> dict:
    return api.client.get("/readyz").json()


def _moto(port: int):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def test_object_store_down_then_back(tmp_path: Path, s3_endpoint: str) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = _moto(port)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="voices")
    with running_api(
        tmp_path, storage_url="s3://voices", s3_endpoint=endpoint, **FAST_FAILURE
    ) as api:
        first = create_voice(api, "before").json()
        job = api.client.post(
            "/v1/jobs", headers=api.alice, json={"text": "Stored.", "voice": FAKE_STOCK_VOICE}
        ).json()
        api.wait_for_job(job["id"])

        moto.stop()
        _unavailable(create_voice(api, "during"), "storage_unavailable")
        listed = api.client.get("/v1/voices", headers=api.alice).json()["voices"]
        assert [voice["name"] for voice in listed] == ["before"]  # nothing half-written
        _unavailable(
            api.client.get(f"/v1/jobs/{job['id']}/audio", headers=api.alice), "storage_unavailable"
        )
        ready = api.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["storage"] == "unavailable"

        moto = _moto(port)  # back, on the same address (empty: moto keeps nothing)
        try:
            s3.create_bucket(Bucket="voices")
            assert _ready(api)["status"] == "ready"
            assert create_voice(api, "after").status_code == 201
            assert first["id"] in {
                v["id"] for v in api.client.get("/v1/voices", headers=api.alice).json()["voices"]
            }
        finally:
            moto.stop()


@pytest.fixture
def cut_off_postgres() -> tuple[str, TcpProxy]:
    with temporary_postgres_database() as url:
        migrate(url)
        proxy = TcpProxy(make_url(postgres_base_url()).port or 5432)
        proxy.start()
        try:
            yield make_url(url).set(port=proxy.port).render_as_string(hide_password=False), proxy
        finally:
            proxy.stop()


def test_database_down_then_back(tmp_path: Path, cut_off_postgres) -> None:
    url, proxy = cut_off_postgres
    with running_api(tmp_path, database_url=url, database_connect_timeout_seconds=2) as api:
        assert create_voice(api, "before").status_code == 201

        proxy.stop()
        _unavailable(api.client.get("/v1/voices", headers=api.alice), "database_unavailable")
        job = {"text": "Not now.", "voice": FAKE_STOCK_VOICE}
        _unavailable(
            api.client.post("/v1/jobs", headers=api.alice, json=job), "database_unavailable"
        )
        ready = api.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unavailable"

        proxy.start()  # back on the same port
        assert _ready(api)["status"] == "ready"
        listed = api.client.get("/v1/voices", headers=api.alice)
        assert listed.status_code == 200
        assert [voice["name"] for voice in listed.json()["voices"]] == ["before"]
        assert api.client.post("/v1/jobs", headers=api.alice, json=job).status_code == 202
