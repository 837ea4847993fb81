"""Logs as Google Cloud Logging reads them (one JSON object per line), or text on a terminal.

Every record carries ``severity``, ``message`` and ``time``; records made while serving a
request also carry its ``request_id`` and, once known, the ``owner`` and ``job_id`` (and the
access record an ``httpRequest``). An error with a traceback is one record whose
``stack_trace`` Error Reporting picks up. uvicorn's and Celery's own loggers go through the
same formatter. API keys, link signatures and bearer tokens are masked wherever they appear.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import structlog

from voiceclone.tracing import trace_fields

#: The fields of the request (or job) being handled. A dict, shared by reference with the
#: worker threads a request uses, so an owner learnt in one is on every later line.
_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "voiceclone_log_context", default=None
)

ERROR_REPORT_TYPE = (
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
)
_SEVERITY = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARNING",
    "warn": "WARNING",
    "error": "ERROR",
    "critical": "CRITICAL",
    "exception": "ERROR",
}
_SECRETS = (
    (re.compile(r"vc_[A-Za-z0-9_-]{16,}"), "vc_[redacted]"),
    (re.compile(r"(sig=)[^&\s\"']+"), r"\1[redacted]"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1[redacted]"),
)
QUIET_LOGGERS = ("uvicorn.access",)  # requests are logged once, by the HTTP middleware
#: The server's second report of an error the request middleware has already logged.
SERVER_DUPLICATE = "Exception in ASGI application"


@contextmanager
def log_context(**fields: Any) -> Iterator[dict[str, Any]]:
    """Fields for every record made inside the block (a request, a job)."""
    current = _CONTEXT.get()
    context = {**(current or {}), **{k: v for k, v in fields.items() if v is not None}}
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


def add_to_context(**fields: Any) -> None:
    """Add fields to the current request's or job's records (no-op outside one)."""
    context = _CONTEXT.get()
    if context is not None:
        context.update({k: v for k, v in fields.items() if v is not None})


def json_line(message: str, logger: str, severity: str = "INFO") -> bytes:
    """One record as a JSON line, built without the logging machinery (so it can be
    written from a signal handler, where taking logging's locks could deadlock)."""
    record = {
        "logger": logger,
        "severity": severity,
        "message": redact(message),
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    return (json.dumps(record, ensure_ascii=False) + "\n").encode()


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _add_context(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    for key, value in (_CONTEXT.get() or {}).items():
        event.setdefault(key, value)
    for key, value in trace_fields().items():
        event.setdefault(key, value)
    return event


def _google_fields(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    level = str(event.pop("level", method)).lower()
    event["severity"] = _SEVERITY.get(level, "DEFAULT")
    event["message"] = str(event.pop("event", ""))
    event["time"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    trace = event.pop("exception", None)
    if trace:
        event["stack_trace"] = trace
        event["message"] = f"{event['message']}\n{trace}"
        event["@type"] = ERROR_REPORT_TYPE
    return event


def _redact_all(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact(value)
    return event


def _drop_duplicates(record: logging.LogRecord) -> bool:
    return not (record.exc_info and record.getMessage().startswith(SERVER_DUPLICATE))


def _shared_processors() -> list[Any]:
    return [
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.stdlib.ExtraAdder(allow=("httpRequest",)),
        _add_context,
        structlog.processors.format_exc_info,
    ]


def configure_logging(log_format: str = "", level: str = "INFO") -> str:
    """Send every logger (ours, uvicorn's, Celery's) to standard output in one format:
    ``json`` (the default when standard output is not a terminal) or ``text``."""
    chosen = log_format or ("text" if sys.stdout.isatty() else "json")
    final: list[structlog.typing.Processor]
    if chosen == "json":
        final = [_google_fields, _redact_all, structlog.processors.JSONRenderer(ensure_ascii=False)]
    else:
        final = [_redact_all, structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    logging.captureWarnings(True)  # Python warnings become records in the same format
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "celery.task"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    for name in QUIET_LOGGERS:
        logging.getLogger(name).disabled = True
    server_errors = logging.getLogger("uvicorn.error")
    server_errors.filters = [f for f in server_errors.filters if f is not _drop_duplicates]
    server_errors.addFilter(_drop_duplicates)
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return chosen
