"""Injected dependencies: settings, DB session, store, engine, job queue and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from voiceclone.api.uploads import MultipartForm, read_multipart
from voiceclone.engines.base import Engine
from voiceclone.errors import Forbidden, Unauthorized
from voiceclone.jobs.base import JobQueue
from voiceclone.services.keys import Caller, authenticate
from voiceclone.services.quotas import Quotas
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore

_bearer = HTTPBearer(auto_error=False, description="An API key: `voiceclone keys create`.")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.session_factory


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
    return request.app.state.store


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_queue(request: Request) -> JobQueue:
    return request.app.state.queue


async def get_quotas(request: Request) -> Quotas:
    return request.app.state.quotas


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
StoreDep = Annotated[ObjectStore, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
QuotasDep = Annotated[Quotas, Depends(get_quotas)]


def caller_for_token(factory: sessionmaker[Session], token: str | None) -> Caller:
    """The holder of API key ``token``; :class:`Unauthorized` if missing, unknown or revoked."""
    if not token:
        raise Unauthorized(
            "Missing API key: send 'Authorization: Bearer <key>' "
            "(create one with 'voiceclone keys create --owner NAME')."
        )
    with factory() as session:
        caller = authenticate(session, token)
    if caller is None:
        raise Unauthorized("Invalid API key (unknown or revoked).")
    return caller


def current_caller(
    factory: Annotated[sessionmaker[Session], Depends(get_session_factory)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    quotas: QuotasDep,
) -> Caller:
    """The authenticated caller (``Authorization: Bearer <key>``, else 401), counted
    against the key's requests per minute (429 past it)."""
    caller = caller_for_token(factory, credentials.credentials if credentials else None)
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


async def upload_form(
    request: Request, caller: CallerDep, settings: SettingsDep
) -> AsyncIterator[MultipartForm]:
    """The multipart body, streamed to temporary files (after the caller is authenticated,
    so nobody can fill the disk without a key). The files are removed afterwards."""
    form = await read_multipart(request, max_file_bytes=settings.max_upload_bytes)
    try:
        yield form
    finally:
        form.close()


UploadDep = Annotated[MultipartForm, Depends(upload_form, scope="function")]
