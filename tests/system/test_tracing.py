"""OpenTelemetry: one trace from the request through the job to synthesis and storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.orm import Session, sessionmaker
from support.api import Api, running_api
from support.fakes import FAKE_STOCK_VOICE, FakeEngine, read_job, submit_fake_job, wait_until
from support.servers import celery_worker

from voiceclone.services.pipeline import SpeechPipeline
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore
from voiceclone.tracing import configure_tracing

CALLER_TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
CALLER_TRACEPARENT = f"00-{CALLER_TRACE_ID:032x}-00f067aa0ba902b7-01"

_exporter = InMemorySpanExporter()


def _install_provider() -> None:
    """The process-wide provider can be set once: this module's, exporting to memory."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_exporter))
    trace.set_tracer_provider(provider)


_install_provider()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    _exporter.clear()
    yield _exporter


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running


def _named(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    matching = [span for span in spans if span.name == name]
    assert matching, f"no span {name!r} among {[span.name for span in spans]}"
    return matching[0]


def test_a_job_is_one_trace_from_request_to_storage(api: Api, spans: InMemorySpanExporter) -> None:
    headers = {**api.alice, "traceparent": CALLER_TRACEPARENT}
    job = api.client.post(
        "/v1/jobs", headers=headers, json={"text": "Traced.", "voice": FAKE_STOCK_VOICE}
    ).json()
    api.wait_for_job(job["id"])
    api.client.app.state.queue.wait_idle(10)

    finished = spans.get_finished_spans()
    request = _named(finished, "POST /v1/jobs")
    job_span = _named(finished, "voiceclone.job")
    synthesis = _named(finished, "voiceclone.synthesis")
    storage = _named(finished, "voiceclone.storage.put")

    assert request.context.trace_id == CALLER_TRACE_ID  # continues the caller's trace
    assert {s.context.trace_id for s in (job_span, synthesis, storage)} == {CALLER_TRACE_ID}
    assert job_span.attributes["voiceclone.job_id"] == job["id"]
    assert synthesis.parent.span_id == job_span.context.span_id
    assert storage.parent.span_id == job_span.context.span_id
    assert synthesis.attributes["voiceclone.audio_seconds"] > 0
    assert [event.name for event in synthesis.events] == ["first_audio"]


def test_a_streamed_speech_request_has_its_synthesis_span(
    api: Api, spans: InMemorySpanExporter
) -> None:
    response = api.client.post(
        "/v1/speech", headers=api.alice, json={"text": "Hello.", "voice": FAKE_STOCK_VOICE}
    )
    assert response.status_code == 200

    finished = spans.get_finished_spans()
    request = _named(finished, "POST /v1/speech")
    synthesis = _named(finished, "voiceclone.synthesis")
    assert synthesis.context.trace_id == request.context.trace_id
    assert synthesis.attributes["voiceclone.chunks"] >= 1


def test_a_celery_job_continues_the_submitters_trace(
    queue_settings: Settings,
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    fake_engine: FakeEngine,
    spans: InMemorySpanExporter,
) -> None:
    from voiceclone.jobs.celery_queue import CeleryJobQueue, WorkerContext, celery_app

    api_side = CeleryJobQueue(celery_app(queue_settings), queue_settings)
    with trace.get_tracer("test").start_as_current_span("submitting") as submitting:
        job_id = submit_fake_job(session_factory, api_side, fake_engine, "Through Celery.").id
    worker_app = celery_app(
        queue_settings, WorkerContext(session_factory, local_store, SpeechPipeline([fake_engine]))
    )
    with celery_worker(worker_app):
        wait_until(lambda: read_job(session_factory, job_id).finished, timeout=30)

    job_span = _named(spans.get_finished_spans(), "voiceclone.job")
    assert job_span.context.trace_id == submitting.get_span_context().trace_id


def test_health_checks_make_no_spans(api: Api, spans: InMemorySpanExporter) -> None:
    assert api.client.get("/healthz").status_code == 200
    assert not [s for s in spans.get_finished_spans() if "healthz" in s.name]


def test_tracing_stays_off_without_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert configure_tracing("voiceclone-test") is False
