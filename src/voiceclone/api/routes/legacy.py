"""The original routes, same shapes, now behind an API key:
``POST /upload-voice``, ``POST /synthesize``, ``GET /results/stream?blob=``.

``proxy_stream_url`` is a signed *path* (``BASE_URL + proxy_stream_url`` plays anywhere, as
in the original documentation); ``gcs_url`` and ``result_gs_url`` name the object in its
storage (``gs://…`` on GCS) — except that a local store's result is given as a signed link,
since a ``file://`` URL plays nowhere but on the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from voiceclone.api.audio_urls import job_audio_url, stream_path, stream_url
from voiceclone.api.deps import (
    AnalysisSlotDep,
    CallerDep,
    EngineDep,
    LinksDep,
    QueueDep,
    QuotasDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    UploadDep,
    link_or_caller,
)
from voiceclone.api.responses import media_type_for, object_response
from voiceclone.api.schemas import (
    ERROR_RESPONSES,
    LANGUAGE_FIELD,
    VOICE_NAME_FIELD,
    LegacySynthesize,
    LegacySynthesizeOut,
    LegacyUploadOut,
)
from voiceclone.api.uploads import BINARY, consent_claim, multipart_doc, require_files
from voiceclone.errors import Forbidden
from voiceclone.logs import add_to_context
from voiceclone.services import jobs, voices
from voiceclone.services.api_keys import Caller
from voiceclone.storage.layout import KeyKind, checked_key

router = APIRouter(tags=["original routes"], responses=ERROR_RESPONSES)

#: What ``?blob=`` may name: a result, an uploaded sample or a consent recording.
STREAMABLE_KINDS: tuple[KeyKind, ...] = ("voices", "consent")


def _check_user(user_id: str | None, owner: str) -> None:
    """``user_id`` is optional, but when given it must be the caller's own owner name."""
    if user_id and user_id.strip() != owner:
        raise Forbidden(
            f"user_id {user_id[:80]!r} does not match your API key's owner; "
            "send your own owner name or omit user_id."
        )


def _is_local(url: str) -> bool:
    return url.startswith(("file:", "memory:"))


@router.post(
    "/upload-voice",
    response_model=LegacyUploadOut,
    summary="Upload a reference recording (creates a voice)",
    openapi_extra=multipart_doc(
        {
            "user_id": {"type": "string", "description": "Your owner name, or omit it."},
            "file": BINARY,
            "name": VOICE_NAME_FIELD,
            "language": LANGUAGE_FIELD,
        },
        required=["file"],
        audio=("file",),
        consent=True,
    ),
)
def upload_voice(
    request: Request,
    caller: CallerDep,
    form: UploadDep,
    _slot: AnalysisSlotDep,
    session: SessionDep,
    store: StoreDep,
    engine: EngineDep,
    quotas: QuotasDep,
    settings: SettingsDep,
    links: LinksDep,
) -> LegacyUploadOut:
    owner = caller.owner
    _check_user(form.value("user_id"), owner)
    uploads = require_files(form, "file", "files")
    quotas.check_voices(session, caller)
    name = form.value("name") or Path(uploads[0].filename).stem or "voice"
    info = voices.create_voice(
        session,
        store,
        engine,
        owner,
        name,
        [(upload.path, upload.filename) for upload in uploads],
        form.value("language") or None,
        consent=consent_claim(form),
        actor_key_id=caller.key_id,
        settings=settings,
    )
    blob = info.sample_keys[0]
    return LegacyUploadOut(
        message="Voice uploaded.",
        user_id=owner,
        blob=blob,
        gcs_url=store.url_for(blob),
        url=stream_url(request, links, owner, blob),
        voice_id=info.id,
    )


@router.post(
    "/synthesize",
    status_code=202,
    response_model=LegacySynthesizeOut,
    summary="Queue synthesis in an uploaded voice",
)
def synthesize(
    request: Request,
    body: LegacySynthesize,
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    queue: QueueDep,
    quotas: QuotasDep,
    store: StoreDep,
    links: LinksDep,
) -> LegacySynthesizeOut:
    _check_user(body.user_id, caller.owner)
    info = jobs.submit_job(
        session,
        queue,
        engine,
        caller.owner,
        body.text,
        body.input_voice_gcs,
        body.language,
        body.format,
        body.speed,
        admit=lambda: quotas.spend_chars(caller, len(body.text)),
        store=request.app.state.store,
    )
    assert info.result_key is not None
    add_to_context(job_id=info.id)
    result_url = job_audio_url(request, links, caller.owner, info.id)
    storage_url = store.url_for(info.result_key)
    return LegacySynthesizeOut(
        message="Synthesis queued.",
        job=info.id,
        status=info.status,
        result_blob=info.result_key,
        result_url=result_url,
        result_gs_url=result_url if _is_local(storage_url) else storage_url,
        proxy_stream_url=stream_path(request, links, caller.owner, info.result_key),
        job_url=str(request.url_for("get_job", job_id=info.id)),
    )


def _blob_of(request: Request) -> str:
    return request.query_params.get("blob", "")


StreamCaller = Annotated[Caller, Depends(link_or_caller(_blob_of))]


@router.get(
    "/results/stream",
    name="stream_result",
    response_class=StreamingResponse,
    summary="Stream one of your stored objects (HTTP Range supported; signed links play as is)",
)
def stream_result(
    request: Request,
    caller: StreamCaller,
    store: StoreDep,
    blob: Annotated[str, Query(description="results/{owner}/…, voices/{owner}/… or consent/…")],
    download: Annotated[bool, Query(description="Save as a file instead of playing.")] = False,
) -> Response:
    kind: KeyKind = next((k for k in STREAMABLE_KINDS if blob.startswith(f"{k}/")), "results")
    key = checked_key(caller.owner, blob, kind)
    size = store.size(key)
    return object_response(
        request,
        store,
        key,
        size,
        media_type_for(key),
        filename=key.rsplit("/", 1)[-1],
        download=download,
    )
