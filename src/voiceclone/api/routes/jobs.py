"""``/v1/jobs``: long texts synthesized in the background; results served with Range."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from voiceclone.api.deps import (
    CallerDep,
    EngineDep,
    OwnerDep,
    QueueDep,
    QuotasDep,
    SessionDep,
    StoreDep,
)
from voiceclone.api.responses import file_response, object_response
from voiceclone.api.schemas import ERROR_RESPONSES, JobCreate, JobOut, JobUrls
from voiceclone.audio.encode import output_format
from voiceclone.safety.marks import job_subject, provenance_tags
from voiceclone.services import jobs
from voiceclone.services.jobs import JobInfo
from voiceclone.services.transcode import convert_object

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


def job_urls(request: Request, job_id: str) -> JobUrls:
    return JobUrls(
        job=str(request.url_for("get_job", job_id=job_id)),
        audio=str(request.url_for("get_job_audio", job_id=job_id)),
    )


def job_out(request: Request, info: JobInfo) -> JobOut:
    return JobOut.of(info, job_urls(request, info.id))


@router.post("", status_code=202, response_model=JobOut, summary="Queue a synthesis job")
def create_job(
    request: Request,
    response: Response,
    body: JobCreate,
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    queue: QueueDep,
    quotas: QuotasDep,
) -> JobOut:
    info = jobs.submit_job(
        session,
        queue,
        engine,
        caller.owner,
        body.text,
        body.voice,
        body.language,
        body.format,
        body.speed,
        admit=lambda: quotas.spend_chars(caller, len(body.text)),
    )
    out = job_out(request, info)
    response.headers["Location"] = out.urls.job
    return out


@router.get("/{job_id}", response_model=JobOut, summary="Status, progress and result of a job")
def get_job(request: Request, job_id: str, owner: OwnerDep, session: SessionDep) -> JobOut:
    return job_out(request, jobs.get_job(session, owner, job_id))


@router.delete("/{job_id}", response_model=JobOut, summary="Cancel a queued or running job")
def cancel_job(request: Request, job_id: str, owner: OwnerDep, session: SessionDep) -> JobOut:
    return job_out(request, jobs.cancel_job(session, owner, job_id))


@router.get(
    "/{job_id}/audio",
    response_class=StreamingResponse,
    summary="The job's audio (HTTP Range supported; ?format= converts)",
    responses={206: {"description": "Partial content (Range)."}},
)
def get_job_audio(
    request: Request,
    job_id: str,
    owner: OwnerDep,
    session: SessionDep,
    store: StoreDep,
    engine: EngineDep,
    format: str | None = None,
) -> Response:
    target = output_format(format).name if format else None
    info = jobs.get_job(session, owner, job_id)
    result = jobs.job_result(session, store, owner, job_id)
    filename = f"{job_id}.{output_format(info.format).extension}"
    if target is None or target == info.format:
        return object_response(
            request, store, result.key, result.size, result.content_type, filename
        )
    converted = convert_object(
        store,
        result.key,
        info.format,
        target,
        engine.sample_rate,
        provenance_tags(job_subject(job_id)),
    )
    return file_response(
        request,
        converted.path,
        converted.content_type,
        filename=f"{job_id}.{converted.extension}",
        cleanup=converted.cleanup,
    )
