"""``GET /metrics``: Prometheus text (optionally behind ``VOICECLONE_METRICS_TOKEN``)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from voiceclone.errors import Unauthorized

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("/metrics needs 'Authorization: Bearer <VOICECLONE_METRICS_TOKEN>'.")
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
