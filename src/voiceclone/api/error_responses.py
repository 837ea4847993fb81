"""One JSON error shape for every failure: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from voiceclone.audio.encode import output_format
from voiceclone.errors import DatabaseUnavailable, InvalidText, VoiceCloneError
from voiceclone.services.streaming import check_openai_model
from voiceclone.services.validation import check_speed, check_text
from voiceclone.services.voices import check_voice_name
from voiceclone.text.captions import check_caption_format
from voiceclone.text.language import resolve_language

log = logging.getLogger(__name__)

#: Codes for plain HTTP errors raised by the framework (unknown route, wrong method...).
HTTP_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """Readable one-line summary of pydantic/FastAPI validation errors."""
    parts = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(location) or "request"
        message = str(error.get("msg", "is invalid"))
        if error.get("type") == "missing":
            message = "is required"
        elif error.get("type") == "json_invalid":
            where, message = "body", "is not valid JSON"
        parts.append(f"{where}: {message}")
    return "Invalid request: " + "; ".join(parts) if parts else "Invalid request."


async def _voiceclone_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VoiceCloneError)
    return error_response(exc.status, exc.code, exc.message, error_headers(exc))


def error_headers(exc: VoiceCloneError) -> dict[str, str] | None:
    """Headers an error needs: ``WWW-Authenticate`` on 401, ``Retry-After`` when trying
    again later makes sense (429, 503)."""
    if exc.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if exc.retry_after is not None:
        return {"Retry-After": str(exc.retry_after)}
    return None


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """The database is unreachable (or timed out): 503, so clients retry."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return await _voiceclone_error(request, DatabaseUnavailable())


def _field_checks(request: Request) -> dict[str, Callable[[Any], object]]:
    """The service's own check for each field the schema constrains, by field name: a value
    the schema refuses gets the same 400 (code and message) as from the service itself."""
    from voiceclone.api.deps import held_engines  # deps imports this module's neighbours

    engines = held_engines(request.app).values()
    captions = request.url.path.endswith("/captions")
    return {
        "text": check_text,
        "input": check_text,
        "format": check_caption_format if captions else output_format,
        "response_format": output_format,
        "speed": check_speed,
        "language": lambda value: resolve_language("", value),
        "model": lambda value: check_openai_model(engines, value),
        **({"name": check_voice_name} if request.url.path.startswith("/v1/voices") else {}),
    }


#: pydantic error types that mean "the value is of the right type but not allowed".
VALUE_ERRORS = frozenset(
    {
        "literal_error",
        "string_pattern_mismatch",
        "string_too_short",
        "greater_than_equal",
        "less_than_equal",
        "greater_than",
        "less_than",
    }
)


def domain_error(request: Request, errors: Sequence[Any]) -> VoiceCloneError | None:
    """The service's error for the first refused value it has a check for, if any."""
    checks = _field_checks(request)
    for error in errors:
        location = error.get("loc", ())
        field = location[-1] if location else None
        if error.get("type") == "string_too_long" and field in ("text", "input"):
            limit = error.get("ctx", {}).get("max_length")
            return InvalidText(
                f"The text is {len(error['input']):,} characters long; at most {limit:,} "
                "are allowed here.",
                code="text_too_long",
            )
        value = error.get("input")
        if error.get("type") not in VALUE_ERRORS or field not in checks:
            continue
        if not isinstance(value, str) and (
            field != "speed" or isinstance(value, bool) or not isinstance(value, int | float)
        ):
            continue  # the wrong type altogether: the generic 422 says so
        try:
            checks[field](value)
        except VoiceCloneError as refused:
            return refused
    return None


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    refused = domain_error(request, exc.errors())
    if refused is not None:
        return await _voiceclone_error(request, refused)
    return error_response(422, "invalid_request", describe_validation_errors(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed here; use {', '.join(allowed)}."
    return error_response(exc.status_code, code, message, headers)


HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers fully (the router names only the first
    route's in its own ``Allow``). Each method is tried against the routes, included
    routers too, as the router itself would match it."""
    return [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]


async def _client_disconnect(request: Request, exc: Exception) -> JSONResponse:
    """The client went away mid-request (e.g. an aborted upload): nobody reads this."""
    log.info("client disconnected during %s %s", request.method, request.url.path)
    return error_response(400, "client_disconnected", "The client disconnected.")


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """The answer to an error that escaped the request middleware (which logs and answers
    the others itself)."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Internal server error.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(VoiceCloneError, _voiceclone_error)
    for unreachable in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unreachable, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    app.add_exception_handler(Exception, _unexpected_error)
