"""Per-request log context, access records and request metrics, as one ASGI middleware.

Each request gets an id (``X-Request-ID`` when the client sends a sane one, else a new one),
returned in the response; every record made while serving it carries it. When the response
ends, one access record is written with Cloud Logging's ``httpRequest`` fields, and the
duration is observed in ``http_request_duration_seconds`` by route template.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voiceclone.api.error_responses import error_response
from voiceclone.logs import log_context
from voiceclone.metrics import HTTP_DURATION

log = logging.getLogger("voiceclone.access")

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED_ROUTE = "unmatched"


async def internal_error(scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(500, "internal_error", "Internal server error.")
    await response(scope, receive, send)


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(candidate):
                result: str = candidate
                return result
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED_ROUTE


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            result: str = value.decode("latin-1")
            return result
    return ""


class RequestObservability:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        started = time.perf_counter()
        status = {"code": 0, "bytes": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                status["bytes"] += len(message.get("body", b""))
            elif message["type"] == "websocket.accept":
                status["code"] = 101
            await send(message)

        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # One record, with the request's context and its stack trace; the client
                # gets the usual error shape (and the request id), if nothing was sent yet.
                log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
                started_response = status["code"] != 0
                status["code"] = status["code"] or 500
                if scope["type"] != "http" or started_response:
                    raise
                await internal_error(scope, receive, send_with_id)
            finally:
                self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: dict[str, int], seconds: float) -> None:
        method = scope.get("method", "WEBSOCKET")
        route = _route_template(scope)
        HTTP_DURATION.labels(route, method, str(status["code"])).observe(seconds)
        http_request: dict[str, Any] = {
            "requestMethod": method,
            "requestUrl": scope.get("path", ""),  # never the query: it may hold a signature
            "status": status["code"],
            "responseSize": str(status["bytes"]),
            "latency": f"{seconds:.3f}s",
            "userAgent": _header(scope, b"user-agent"),
            "remoteIp": (scope.get("client") or ("", 0))[0],
            "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
        }
        path = scope.get("path", "")
        log.info("%s %s %s", method, path, status["code"], extra={"httpRequest": http_request})
