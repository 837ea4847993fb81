"""OpenTelemetry traces: request → job → synthesis → storage.

Optional: with the ``otel`` extra installed and ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, API replicas and workers export spans over
OTLP/HTTP, configured by the standard ``OTEL_*`` variables (service name, headers, sampler).
Without them every helper here is a no-op, so the default install carries no tracing code.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from voiceclone.audio.chunk import AudioChunk

if TYPE_CHECKING:
    from fastapi import FastAPI

_trace: ModuleType | None
try:
    from opentelemetry import trace as _trace
except ImportError:  # the `otel` extra is not installed
    _trace = None

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
TRACER_NAME = "voiceclone"


def tracing_requested() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def configure_tracing(service_name: str) -> bool:
    """Export spans over OTLP when an endpoint is set; True if tracing is now on."""
    if not tracing_requested():
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is not installed: "
            "pip install 'voiceclone[otel]'"
        )
        return False
    assert _trace is not None  # imported with the exporter above
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _trace.set_tracer_provider(provider)
    log.info("exporting traces over OTLP as %s", name)
    return True


def instrument_app(app: FastAPI) -> None:
    """One server span per request, named by its route template, continuing a caller's
    ``traceparent``."""
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    except ImportError:  # opentelemetry-api alone comes with other packages: no `otel` extra
        return
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")


def instrument_celery() -> None:
    """Carry the trace from the API's job submission to the worker that runs it."""
    try:
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
    except ImportError:
        return
    instrumentor = CeleryInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[None]:
    """A child span of the current one, current while the block runs."""
    if _trace is None:
        yield
        return
    tracer = _trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(name, attributes=_clean(attributes)):
        yield


def trace_chunks(
    chunks: Iterable[AudioChunk], name: str, **attributes: Any
) -> Iterator[AudioChunk]:
    """The chunks unchanged, inside one span from the first request for audio to the last
    chunk. The span is never made current: a generator may be resumed from other threads
    and contexts (streaming responses), where attaching it would leak or fail to detach."""
    if _trace is None:
        yield from chunks
        return
    tracer = _trace.get_tracer(TRACER_NAME)
    current = tracer.start_span(name, attributes=_clean(attributes))
    seconds = 0.0
    count = 0
    iterator = iter(chunks)
    try:
        for chunk in iterator:
            if count == 0:
                current.add_event("first_audio")
            count += 1
            seconds += chunk.duration
            yield chunk
    except Exception as error:
        current.record_exception(error)
        current.set_status(_trace.Status(_trace.StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        current.set_attribute("voiceclone.audio_seconds", round(seconds, 3))
        current.set_attribute("voiceclone.chunks", count)
        current.end()
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    return {f"voiceclone.{key}": value for key, value in attributes.items() if value is not None}


def trace_fields() -> dict[str, object]:
    """The current span's ids for a log record, in Cloud Logging's names (so the log
    viewer links a line to its trace; the project comes from ``GOOGLE_CLOUD_PROJECT``)."""
    if _trace is None:
        return {}
    context = _trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    trace_id = f"{context.trace_id:032x}"
    project = os.environ.get("GOOGLE_CLOUD_PROJECT")
    return {
        "logging.googleapis.com/trace": (
            f"projects/{project}/traces/{trace_id}" if project else trace_id
        ),
        "logging.googleapis.com/spanId": f"{context.span_id:016x}",
        "logging.googleapis.com/trace_sampled": context.trace_flags.sampled,
    }
