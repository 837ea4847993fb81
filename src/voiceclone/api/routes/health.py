"""Liveness and readiness probes (no API key needed)."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.api.deps import get_session_factory
from voiceclone.storage import ObjectStore

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)

READY_PROBE_PREFIX = "health/ready-probe-"


def write_and_delete_probe(store: ObjectStore) -> None:
    """A store that answers reads but refuses writes cannot take uploads or results: write
    a small object (a name of this probe's own, as replicas probe at once), find it, and
    delete it."""
    key = f"{READY_PROBE_PREFIX}{uuid.uuid4().hex}"
    store.put_bytes(key, b"ready", "text/plain")
    try:
        if not store.exists(key):
            raise OSError("the probe object was written but cannot be found")
    finally:
        store.delete(key)


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database, object store and engine are usable")
def readyz(
    request: Request,
    factory: Annotated[sessionmaker[Session], Depends(get_session_factory)],
) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("readiness: database check failed: %s", exc)
        checks["database"] = "unavailable"
    try:
        write_and_delete_probe(request.app.state.store)
        checks["storage"] = "ok"
    except Exception as exc:
        log.warning("readiness: storage check failed: %s", exc)
        checks["storage"] = "unavailable"
    pipeline = getattr(request.app.state, "pipeline", None)
    checks["engine"] = "ok" if pipeline is not None else "not loaded"
    ready = all(value == "ok" for value in checks.values())
    settings = request.app.state.settings
    body = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "modes": {"consent": settings.consent, "watermark": settings.watermark},
    }
    return JSONResponse(body, status_code=200 if ready else 503)
