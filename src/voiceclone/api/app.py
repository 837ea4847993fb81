"""The FastAPI application: wiring only (routes live in ``api/routes``, logic in services)."""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI

from voiceclone import __version__
from voiceclone.api.body_limit import BodyLimit
from voiceclone.api.error_responses import install_error_handlers
from voiceclone.api.observability import RequestObservability
from voiceclone.api.openapi import install_openapi
from voiceclone.api.routes import (
    admin,
    consent,
    health,
    jobs,
    legacy,
    metrics,
    openai,
    session,
    speech,
    voices,
    watermark,
)
from voiceclone.commands import cli_command
from voiceclone.db import make_session_factory, migrate, session_scope
from voiceclone.engines import Engine, load_engine, load_served_engine
from voiceclone.jobs import open_queue
from voiceclone.metrics import watch_jobs
from voiceclone.safety.consent import warn_if_consent_off
from voiceclone.safety.marks import warn_if_unmarked
from voiceclone.scratch import remove_dead_scratch
from voiceclone.services.api_keys import any_api_key_exists
from voiceclone.services.janitor import ScheduledJanitor
from voiceclone.services.jobs import jobs_by_status
from voiceclone.services.oidc import verifier_for
from voiceclone.services.pipeline import SpeechPipeline
from voiceclone.services.quotas import Quotas
from voiceclone.services.signed_links import LinkSigner
from voiceclone.settings import Settings, get_settings
from voiceclone.storage import open_store
from voiceclone.tracing import instrument_app
from voiceclone.web import router as web

#: Worker threads for streamed response bodies (speech chunks, stored objects), apart from
#: the shared pool that runs the other routes, so long syntheses never starve quick routes.
STREAM_THREADS = 16


DESCRIPTION = """Self-hostable voice-cloning text-to-speech.

Every route but `/healthz` and `/readyz` needs `Authorization: Bearer <key>`
(`voiceclone keys create --owner NAME`). Errors are always
`{"error": {"code": ..., "message": ...}}`.
"""


def no_key_hint() -> str:
    """What to do first, with the command as this operator types it."""
    create = cli_command("keys create --owner NAME")
    return (
        f"No API key exists yet. Create one with:  {create}"
        "  (then send 'Authorization: Bearer <key>')."
    )


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    more_engines: Sequence[Engine] = (),
) -> FastAPI:
    """The service app. At start-up it migrates the database, opens the object store,
    loads the engines (unless ``engine``, the default, and ``more_engines`` are given, e.g.
    test doubles) and starts the job queue, which resumes jobs a crash left unfinished."""
    chosen = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stream_limiter = anyio.CapacityLimiter(STREAM_THREADS)
        await anyio.to_thread.run_sync(_start, app, chosen, engine, more_engines)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(_stop, app)

    app = FastAPI(
        title="voiceclone",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = chosen
    install_openapi(app)
    app.add_middleware(BodyLimit, max_bytes=chosen.max_request_bytes)
    app.add_middleware(RequestObservability)
    install_error_handlers(app)
    routers = (
        health,
        session,
        legacy,
        voices,
        consent,
        jobs,
        speech,
        openai,
        watermark,
        admin,
        metrics,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(web.router)
    instrument_app(app)
    return app


def _start(
    app: FastAPI, settings: Settings, engine: Engine | None, more_engines: Sequence[Engine]
) -> None:
    warn_if_unmarked(settings)
    warn_if_consent_off(settings)
    remove_dead_scratch(settings)
    migrate(settings.database_url)
    factory = make_session_factory(settings.database_url)
    app.state.session_factory = factory
    app.state.store = open_store(settings.storage_url, settings)
    app.state.analysis_slots = threading.BoundedSemaphore(settings.voice_analysis_slots)
    app.state.links = LinkSigner(settings)
    app.state.oidc = verifier_for(settings)
    pipeline = SpeechPipeline(_served_engines(settings, engine, more_engines), settings)
    app.state.pipeline = pipeline
    app.state.quotas = Quotas(settings, factory, pipeline.capacity)
    watch_jobs(lambda: jobs_by_status(factory))
    warm_up = getattr(pipeline.default_engine, "warm_up", None)
    if callable(warm_up):  # so the first caller does not pay for lazy setup
        warm_up()
    pipeline.measure_capacity()
    queue = open_queue(settings, factory, app.state.store, pipeline)
    app.state.queue = queue
    queue.start()
    app.state.janitor = ScheduledJanitor(factory, app.state.store, settings)
    app.state.janitor.start()
    with session_scope(factory) as session:
        if not any_api_key_exists(session):
            print(no_key_hint(), file=sys.stderr, flush=True)


def _served_engines(
    settings: Settings, engine: Engine | None, more_engines: Sequence[Engine]
) -> list[Engine]:
    """The default engine first, then the others this replica serves (VOICECLONE_ENGINES),
    unless the caller gave them (test doubles)."""
    if engine is not None:
        return [engine, *more_engines]
    default = load_served_engine(settings)
    others = [load_engine(name, settings) for name in settings.engines if name != default.name]
    return [default, *others]


def _stop(app: FastAPI) -> None:
    janitor = getattr(app.state, "janitor", None)
    if janitor is not None:
        janitor.stop()
    queue = getattr(app.state, "queue", None)
    if queue is not None:
        queue.stop()
    factory = getattr(app.state, "session_factory", None)
    if factory is not None:
        factory.kw["bind"].dispose()
