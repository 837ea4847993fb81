"""``/v1/jobs``: long texts synthesized in the background; results served with Range."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from voiceclone.api.audio_urls import job_audio_url
from voiceclone.api.deps import (
    CallerDep,
    EngineDep,
    LinksDep,
    OwnerDep,
    QueueDep,
    QuotasDep,
    SessionDep,
    StoreDep,
    job_engine,
    link_or_caller,
)
from voiceclone.api.responses import file_response, object_response
from voiceclone.api.schemas import (
    ERROR_RESPONSES,
    AudioFormat,
    JobCreate,
    JobList,
    JobOut,
    JobUrls,
)
from voiceclone.audio.encode import output_format
from voiceclone.logs import add_to_context
from voiceclone.safety.marks import job_subject, provenance_tags
from voiceclone.scratch import scratch_folder
from voiceclone.services import jobs
from voiceclone.services.api_keys import Caller
from voiceclone.services.jobs import JobInfo
from voiceclone.services.signed_links import LinkSigner, job_audio_object
from voiceclone.services.transcode import convert_object
from voiceclone.text.captions import CONTENT_TYPES, CaptionFormat

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


def job_urls(request: Request, links: LinkSigner, info: JobInfo) -> JobUrls:
    """The job's status URL, and a fresh signed link to its audio."""
    return JobUrls(
        job=str(request.url_for("get_job", job_id=info.id)),
        audio=job_audio_url(request, links, info.owner, info.id),
    )


def job_out(request: Request, links: LinkSigner, info: JobInfo) -> JobOut:
    return JobOut.of(info, job_urls(request, links, info))


@router.post("", status_code=202, response_model=JobOut, summary="Queue a synthesis job")
def create_job(
    request: Request,
    response: Response,
    body: JobCreate,
    caller: CallerDep,
    session: SessionDep,
    queue: QueueDep,
    quotas: QuotasDep,
    links: LinksDep,
) -> JobOut:
    info = jobs.submit_job(
        session,
        queue,
        job_engine(request.app, body.engine),
        caller.owner,
        body.text,
        body.voice,
        body.language,
        body.format,
        body.speed,
        admit=lambda: quotas.spend_chars(caller, len(body.text)),
        store=request.app.state.store,
    )
    add_to_context(job_id=info.id)
    out = job_out(request, links, info)
    response.headers["Location"] = out.urls.job
    return out


@router.get("", response_model=JobList, summary="Your jobs, newest first")
def list_jobs(
    request: Request,
    owner: OwnerDep,
    session: SessionDep,
    links: LinksDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Jobs to skip.")] = 0,
) -> JobList:
    found = jobs.list_jobs(session, owner, limit, offset)
    return JobList(jobs=[job_out(request, links, info) for info in found])


@router.get("/{job_id}", response_model=JobOut, summary="Status, progress and result of a job")
def get_job(
    request: Request, job_id: str, owner: OwnerDep, session: SessionDep, links: LinksDep
) -> JobOut:
    return job_out(request, links, jobs.get_job(session, owner, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut, summary="Cancel a queued or running job")
def cancel_job(
    request: Request, job_id: str, owner: OwnerDep, session: SessionDep, links: LinksDep
) -> JobOut:
    return job_out(request, links, jobs.cancel_job(session, owner, job_id))


@router.delete(
    "/{job_id}",
    status_code=204,
    summary="Delete a job and its audio (an unfinished job is cancelled first)",
)
def delete_job(job_id: str, owner: OwnerDep, session: SessionDep, store: StoreDep) -> Response:
    jobs.delete_job(session, store, owner, job_id)
    return Response(status_code=204)


def _job_audio_object(request: Request) -> str:
    return job_audio_object(request.path_params["job_id"])


JobAudioCaller = Annotated[Caller, Depends(link_or_caller(_job_audio_object))]


@router.get(
    "/{job_id}/audio",
    response_class=StreamingResponse,
    summary="The job's audio (HTTP Range supported; ?format= converts; signed links play)",
    responses={206: {"description": "Partial content (Range)."}},
)
def get_job_audio(
    request: Request,
    job_id: str,
    caller: JobAudioCaller,
    session: SessionDep,
    store: StoreDep,
    engine: EngineDep,
    format: Annotated[AudioFormat | None, Query(description="Convert to this format.")] = None,
    download: Annotated[bool, Query(description="Save as a file instead of playing.")] = False,
) -> Response:
    owner = caller.owner
    target = format
    info = jobs.get_job(session, owner, job_id)
    result = jobs.job_result(session, store, owner, job_id)
    filename = f"{job_id}.{output_format(info.format).extension}"
    if target is None or target == info.format:
        return object_response(
            request, store, result.key, result.size, result.content_type, filename, download
        )
    converted = convert_object(
        store,
        result.key,
        info.format,
        target,
        engine.sample_rate,
        scratch_folder(request.app.state.settings),
        provenance_tags(job_subject(job_id)),
    )
    return file_response(
        request,
        converted.path,
        converted.content_type,
        filename=f"{job_id}.{converted.extension}",
        cleanup=converted.cleanup,
        download=download,
    )


@router.get(
    "/{job_id}/captions",
    response_class=Response,
    summary="Word-timed captions of a finished job: WebVTT, SRT, or JSON word timings",
    responses={
        200: {
            "content": {
                "text/vtt": {"schema": {"type": "string"}},
                "application/x-subrip": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
            "description": "Captions whose times match the job's audio.",
        }
    },
)
def get_job_captions(
    job_id: str,
    owner: OwnerDep,
    session: SessionDep,
    store: StoreDep,
    format: Annotated[CaptionFormat, Query(description="vtt, srt or json.")] = "vtt",
) -> Response:
    text = jobs.job_captions(session, store, owner, job_id, format)
    return Response(text, media_type=CONTENT_TYPES[format])
