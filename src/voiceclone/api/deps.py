"""Injected dependencies: settings, DB session, store, engine, job queue and the caller."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from voiceclone.api.uploads import MultipartForm, read_multipart
from voiceclone.engines import queued_engine
from voiceclone.engines.base import Engine
from voiceclone.errors import Forbidden, Unauthorized
from voiceclone.jobs.base import JobQueue
from voiceclone.logs import add_to_context
from voiceclone.scratch import scratch_folder
from voiceclone.services.api_keys import Caller, authenticate
from voiceclone.services.oidc import OidcVerifier, looks_like_jwt
from voiceclone.services.pipeline import SpeechPipeline
from voiceclone.services.quotas import Quotas
from voiceclone.services.sessions import current_session
from voiceclone.services.signed_links import LinkSigner
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore

_bearer = HTTPBearer(auto_error=False, description="An API key: `voiceclone keys create`.")

SESSION_COOKIE = "voiceclone_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MISSING_CREDENTIALS = (
    "Missing API key: send 'Authorization: Bearer <key>' "
    "(create one with 'voiceclone keys create --owner NAME')."
)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    session_factory: sessionmaker[Session] = request.app.state.session_factory
    return session_factory


async def get_session(
    factory: Annotated[sessionmaker[Session], Depends(get_session_factory)],
) -> AsyncIterator[Session]:
    """One session per request, closed as soon as the route function returns (so a long
    streamed response never holds a pooled connection). Opening one does no I/O; closing
    may (it ends the transaction), so that runs in a worker thread."""
    session = factory()
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


async def get_store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.store
    return store


async def get_pipeline(request: Request) -> SpeechPipeline:
    pipeline: SpeechPipeline = request.app.state.pipeline
    return pipeline


async def get_engine(request: Request) -> Engine:
    """The default engine."""
    pipeline: SpeechPipeline = request.app.state.pipeline
    return pipeline.default_engine


def held_engines(app: Any) -> dict[str, Engine]:
    """The engines this process speaks with, by name (the default among them)."""
    pipeline: SpeechPipeline = app.state.pipeline
    return pipeline.engines


def job_engine(app: Any, name: str | None) -> Engine | str:
    """The engine a job names: one held here, or (with Celery) the name of one that
    workers elsewhere run (``VOICECLONE_JOB_ENGINES``); 400 naming the available ones."""
    pipeline: SpeechPipeline = app.state.pipeline
    engine_name, engine = queued_engine(
        pipeline.engines, pipeline.default_engine, name, _queued_engines(app)
    )
    return engine or engine_name


def job_engine_names(app: Any) -> list[str]:
    """Every engine a job may name here."""
    return list(dict.fromkeys([*held_engines(app), *_queued_engines(app)]))


def _queued_engines(app: Any) -> list[str]:
    settings: Settings = app.state.settings
    return settings.queued_engines if settings.queue_url else []


async def get_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue
    return queue


async def get_quotas(request: Request) -> Quotas:
    quotas: Quotas = request.app.state.quotas
    return quotas


async def get_links(request: Request) -> LinkSigner:
    links: LinkSigner = request.app.state.links
    return links


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
StoreDep = Annotated[ObjectStore, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]
PipelineDep = Annotated[SpeechPipeline, Depends(get_pipeline)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
QuotasDep = Annotated[Quotas, Depends(get_quotas)]
LinksDep = Annotated[LinkSigner, Depends(get_links)]


def caller_for_token(
    factory: sessionmaker[Session], token: str | None, oidc: OidcVerifier | None = None
) -> Caller:
    """The holder of API key ``token`` — or of an ID token, when ``oidc`` is configured;
    :class:`Unauthorized` (saying why) if missing, unknown, revoked or invalid."""
    if not token:
        raise Unauthorized(MISSING_CREDENTIALS)
    if oidc is not None and looks_like_jwt(token):
        return oidc.caller(token)
    with factory() as session:
        caller = authenticate(session, token)
    if caller is None:
        raise Unauthorized("Invalid API key (unknown or revoked).")
    return caller


def caller_for_cookie(
    factory: sessionmaker[Session], cookie: str, method: str, csrf: str | None
) -> Caller:
    """The signed-in browser's caller. A state-changing method must echo the session's
    CSRF token in ``X-CSRF-Token`` (403 otherwise)."""
    with factory() as session:
        info = current_session(session, cookie)
    if method not in SAFE_METHODS and not (csrf and secrets.compare_digest(csrf, info.csrf_token)):
        raise Forbidden(
            "Missing or wrong X-CSRF-Token header: send the token GET /v1/session returns.",
            code="csrf_failed",
        )
    return info.caller


def authenticated_caller(request: Request, factory: sessionmaker[Session]) -> Caller | None:
    """The caller by ``Authorization: Bearer`` or the session cookie; None if neither."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return caller_for_token(factory, credentials.strip(), request.app.state.oidc)
    if scheme:
        raise Unauthorized("Send the API key as 'Authorization: Bearer <key>'.")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return caller_for_cookie(factory, cookie, request.method, request.headers.get(CSRF_HEADER))
    return None


def current_caller(
    request: Request,
    factory: Annotated[sessionmaker[Session], Depends(get_session_factory)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    quotas: QuotasDep,
) -> Caller:
    """The authenticated caller (an API key as ``Authorization: Bearer``, or the browser's
    session cookie), else 401; counted against the key's requests per minute."""
    caller = authenticated_caller(request, factory)
    if caller is None:
        raise Unauthorized(MISSING_CREDENTIALS)
    add_to_context(owner=caller.owner)
    quotas.count_request(caller)
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def current_owner(caller: CallerDep) -> str:
    return caller.owner


OwnerDep = Annotated[str, Depends(current_owner)]


def current_admin(caller: CallerDep) -> Caller:
    """The caller if their key is an administrator's, else 403."""
    if not caller.is_admin:
        raise Forbidden("This needs an administrator's key (voiceclone keys create --admin).")
    return caller


AdminDep = Annotated[Caller, Depends(current_admin)]


def link_or_caller(object_of: Callable[[Request], str]) -> Callable[..., Caller]:
    """A dependency for routes that serve audio: a signed link (``owner``, ``exp``, ``sig``
    in the query) opens the object ``object_of(request)`` names with no header at all;
    otherwise the caller must authenticate as usual."""

    def dependency(
        request: Request,
        factory: Annotated[sessionmaker[Session], Depends(get_session_factory)],
        quotas: QuotasDep,
        links: LinksDep,
    ) -> Caller:
        caller = authenticated_caller(request, factory)
        if caller is None:
            query = request.query_params
            if "sig" not in query:
                raise Unauthorized(MISSING_CREDENTIALS)
            owner = links.verify(
                object_of(request), query.get("owner", ""), query.get("exp", ""), query["sig"]
            )
            caller = Caller(owner=owner, key_id=f"link:{owner}")
        add_to_context(owner=caller.owner)
        quotas.count_request(caller)
        return caller

    return dependency


async def upload_form(
    request: Request, caller: CallerDep, settings: SettingsDep
) -> AsyncIterator[MultipartForm]:
    """The multipart body, streamed to temporary files (after the caller is authenticated,
    so nobody can fill the disk without a key). The files are removed afterwards."""
    form = await read_multipart(
        request, max_file_bytes=settings.max_upload_bytes, folder=scratch_folder(settings)
    )
    try:
        yield form
    finally:
        form.close()


UploadDep = Annotated[MultipartForm, Depends(upload_form, scope="function")]


def analysis_slot(request: Request) -> Iterator[None]:
    """One of the few places (``voice_analysis_slots``) where recordings are decoded and
    analysed: each analysis holds hundreds of MB while it runs, so a burst of uploads waits
    its turn with its files on disk instead of all being decoded at once."""
    slots = request.app.state.analysis_slots
    slots.acquire()
    try:
        yield
    finally:
        slots.release()


#: Put after UploadDep: the upload is read to disk before the request waits for a place.
AnalysisSlotDep = Annotated[None, Depends(analysis_slot, scope="function")]


class LiveSlot:
    """A live stream's place in the server's capacity, taken as a request arrives."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release

    def hand_over(self) -> Callable[[], None]:
        """The place's release, for the stream that will hold it until it ends."""
        release, self._release = self._release, None
        if release is None:
            raise RuntimeError("This live slot was already handed over.")
        return release

    def close(self) -> None:
        """Free the place unless a stream took it."""
        if self._release is not None:
            self._release()
            self._release = None


async def live_slot(request: Request) -> AsyncIterator[LiveSlot]:
    """A place for one more live stream, or 429 ``server_busy`` at once: taken on the event
    loop before anything else (the body aside) runs, so a full server refuses in
    milliseconds, and freed when the route function ends unless a stream took it."""
    slot = LiveSlot(request.app.state.pipeline.capacity.admit())
    try:
        yield slot
    finally:
        slot.close()


#: Listed first among a live route's dependencies (they resolve in that order).
LiveSlotDep = Annotated[LiveSlot, Depends(live_slot, scope="function")]
