"""``/v1/voices``: clone a voice from recordings, list, rename, delete, preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from voiceclone.api.audio_urls import preview_url, stream_url
from voiceclone.api.deps import (
    AnalysisSlotDep,
    CallerDep,
    EngineDep,
    LinksDep,
    LiveSlotDep,
    OwnerDep,
    PipelineDep,
    QuotasDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    UploadDep,
    link_or_caller,
)
from voiceclone.api.responses import audio_stream_response
from voiceclone.api.schemas import (
    ERROR_RESPONSES,
    LANGUAGE_FIELD,
    VOICE_NAME_FIELD,
    AudioFormat,
    ConsentOut,
    VoiceList,
    VoiceOut,
    VoiceRename,
)
from voiceclone.api.uploads import BINARY, MAX_FILES, consent_claim, multipart_doc, require_files
from voiceclone.scratch import scratch_folder
from voiceclone.services import voices
from voiceclone.services.api_keys import Caller
from voiceclone.services.signed_links import LinkSigner, preview_object
from voiceclone.services.voices import VoiceInfo

router = APIRouter(prefix="/v1/voices", tags=["voices"], responses=ERROR_RESPONSES)


def voice_out(request: Request, links: LinkSigner, info: VoiceInfo) -> VoiceOut:
    """The voice with fresh signed links to its samples and its preview."""
    samples = [stream_url(request, links, info.owner, key) for key in info.sample_keys]
    return VoiceOut.of(info, samples, preview_url(request, links, info.owner, info.id))


@router.post(
    "",
    status_code=201,
    response_model=VoiceOut,
    summary="Clone a voice from one or more recordings",
    description=(
        "Consent (VOICECLONE_CONSENT): in `attest` mode send `consent=true`; in `spoken` mode "
        "`consent_challenge` (from POST /v1/consent/challenges) and `consent_recording`."
    ),
    openapi_extra=multipart_doc(
        {
            "name": VOICE_NAME_FIELD,
            "files": {"type": "array", "items": BINARY, "minItems": 1, "maxItems": MAX_FILES},
            "language": LANGUAGE_FIELD,
        },
        required=["name", "files"],
        audio=("files",),
        consent=True,
    ),
)
def create_voice(
    caller: CallerDep,
    form: UploadDep,
    _slot: AnalysisSlotDep,
    session: SessionDep,
    store: StoreDep,
    engine: EngineDep,
    quotas: QuotasDep,
    settings: SettingsDep,
    links: LinksDep,
    request: Request,
) -> VoiceOut:
    uploads = require_files(form, "files", "file")
    quotas.check_voices(session, caller)
    info = voices.create_voice(
        session,
        store,
        engine,
        caller.owner,
        form.value("name") or "",
        [(upload.path, upload.filename) for upload in uploads],
        form.value("language") or None,
        consent=consent_claim(form),
        actor_key_id=caller.key_id,
        settings=settings,
    )
    return voice_out(request, links, info)


@router.get("", response_model=VoiceList, summary="Your voices, newest first")
def list_voices(
    request: Request, owner: OwnerDep, session: SessionDep, links: LinksDep
) -> VoiceList:
    return VoiceList(
        voices=[voice_out(request, links, info) for info in voices.list_voices(session, owner)]
    )


@router.get("/{voice_id}", response_model=VoiceOut, summary="One of your voices")
def get_voice(
    request: Request, voice_id: str, owner: OwnerDep, session: SessionDep, links: LinksDep
) -> VoiceOut:
    return voice_out(request, links, voices.get_voice(session, owner, voice_id))


@router.post(
    "/{voice_id}/samples",
    response_model=VoiceOut,
    summary="Add recordings to a voice and rebuild it from all of them",
    description=(
        "More recordings of the same speaker make a closer voice. Consent as for creating a "
        "voice; the answer's `quality` says how good the recordings now are."
    ),
    openapi_extra=multipart_doc(
        {"files": {"type": "array", "items": BINARY, "minItems": 1, "maxItems": MAX_FILES}},
        required=["files"],
        audio=("files",),
        consent=True,
    ),
)
def add_samples(
    request: Request,
    voice_id: str,
    caller: CallerDep,
    form: UploadDep,
    _slot: AnalysisSlotDep,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    links: LinksDep,
    pipeline: PipelineDep,
) -> VoiceOut:
    uploads = require_files(form, "files", "file")
    engine = pipeline.engine(voices.voice_engine(session, caller.owner, voice_id))
    info = voices.add_samples(
        session,
        store,
        engine,
        caller.owner,
        voice_id,
        [(upload.path, upload.filename) for upload in uploads],
        scratch_folder(settings),
        consent=consent_claim(form),
        actor_key_id=caller.key_id,
        settings=settings,
    )
    return voice_out(request, links, info)


@router.patch("/{voice_id}", response_model=VoiceOut, summary="Rename a voice")
def rename_voice(
    request: Request,
    voice_id: str,
    body: VoiceRename,
    owner: OwnerDep,
    session: SessionDep,
    links: LinksDep,
) -> VoiceOut:
    return voice_out(request, links, voices.rename_voice(session, owner, voice_id, body.name))


@router.delete(
    "/{voice_id}", status_code=204, summary="Delete a voice, its samples and its profile"
)
def delete_voice(
    voice_id: str, caller: CallerDep, session: SessionDep, store: StoreDep
) -> Response:
    voices.delete_voice(session, store, caller.owner, voice_id, caller.key_id)
    return Response(status_code=204)


@router.get(
    "/{voice_id}/consent",
    response_model=ConsentOut,
    summary="The stored evidence of the speaker's consent to this voice",
)
def voice_consent(voice_id: str, owner: OwnerDep, session: SessionDep) -> ConsentOut:
    return ConsentOut.of(voices.consent_evidence(session, owner, voice_id))


def _preview_object(request: Request) -> str:
    return preview_object(request.path_params["voice_id"])


PreviewCaller = Annotated[Caller, Depends(link_or_caller(_preview_object))]


@router.get(
    "/{voice_id}/preview",
    response_class=StreamingResponse,
    summary="Hear a short sentence in the voice (streamed)",
)
def preview_voice(
    request: Request,
    voice_id: str,
    slot: LiveSlotDep,
    caller: PreviewCaller,
    session: SessionDep,
    store: StoreDep,
    quotas: QuotasDep,
    pipeline: PipelineDep,
    format: Annotated[AudioFormat, Query(description="The preview's audio format.")] = "mp3",
) -> StreamingResponse:
    speech = pipeline.plan_preview(session, store, caller.owner, voice_id, format)
    release = quotas.open_stream(caller, chars=len(str(speech.text)), admitted=slot.hand_over())
    return audio_stream_response(request, pipeline, speech, release)
