"""OpenAI-compatible speech: ``POST /v1/audio/speech``, ``GET /v1/audio/voices``,
``GET /v1/models`` — so the official ``openai`` SDK works with ``base_url`` pointed here."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from voiceclone.api.deps import (
    CallerDep,
    EngineDep,
    LiveSlotDep,
    OwnerDep,
    PipelineDep,
    QuotasDep,
    SessionDep,
    StoreDep,
    held_engines,
)
from voiceclone.api.responses import audio_stream_response, speech_events_response
from voiceclone.api.schemas import (
    ERROR_RESPONSES,
    EngineState,
    OpenAIModel,
    OpenAIModelList,
    OpenAISpeechCreate,
    OpenAIVoice,
    OpenAIVoiceList,
)
from voiceclone.engines import EngineInfo, describe_engines, engine_info
from voiceclone.services.streaming import (
    ENGINE_MODEL_NAMES,
    OPENAI_VOICE_ALIASES,
    engine_for_model,
    openai_model_ids,
)
from voiceclone.services.voices import list_voices

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], responses=ERROR_RESPONSES)

#: OpenAI caps ``input`` at 4096 characters; so do we, for drop-in behaviour.
MAX_INPUT_CHARS = 4096
MODELS_CREATED = 1_735_689_600  # 2025-01-01, a fixed "created" timestamp for the listing


@router.post(
    "/audio/speech",
    response_class=StreamingResponse,
    summary="Speak text (OpenAI's audio.speech.create); streamed as audio or SSE",
)
def create_speech(
    request: Request,
    body: OpenAISpeechCreate,
    slot: LiveSlotDep,
    caller: CallerDep,
    session: SessionDep,
    store: StoreDep,
    quotas: QuotasDep,
    pipeline: PipelineDep,
) -> StreamingResponse:
    engine = engine_for_model(pipeline.engines, pipeline.default_engine, body.model)
    voice_ref = body.voice if isinstance(body.voice, str) else body.voice.id
    speech = pipeline.plan(
        session,
        store,
        caller.owner,
        text=body.input,
        voice=voice_ref,
        engine=engine.name,
        format=body.response_format,
        speed=body.speed,
        max_chars=MAX_INPUT_CHARS,
        openai_aliases=True,
    )
    release = quotas.open_stream(caller, chars=len(body.input), admitted=slot.hand_over())
    if body.stream_format == "sse":
        return speech_events_response(request, pipeline, speech, release, words=False)
    return audio_stream_response(request, pipeline, speech, release)


@router.get(
    "/audio/voices",
    response_model=OpenAIVoiceList,
    summary="Voices usable as `voice`: yours, the stock voices and OpenAI's names",
)
def audio_voices(owner: OwnerDep, session: SessionDep, engine: EngineDep) -> OpenAIVoiceList:
    custom = [
        OpenAIVoice(id=info.id, name=info.name, type="custom", language=info.language)
        for info in list_voices(session, owner)
    ]
    stock_names = engine.stock_voice_names()
    stock = [OpenAIVoice(id=name, name=name, type="stock") for name in stock_names]
    aliases = [
        OpenAIVoice(id=alias, name=f"{alias} ({stock_name})", type="alias")
        for alias, stock_name in OPENAI_VOICE_ALIASES.items()
        if stock_name in stock_names
    ]
    return OpenAIVoiceList(voices=[*custom, *stock, *aliases])


@router.get("/models", response_model=OpenAIModelList, summary="Models (OpenAI's models.list)")
def models(request: Request, owner: OwnerDep, engine: EngineDep) -> OpenAIModelList:
    """The model ids ``/v1/audio/speech`` takes, then every other known engine with what it
    needs (``engine.detail``)."""
    held = held_engines(request.app)
    states = {name: _engine_state(engine_info(held[name]), served=True) for name in held}
    speakable = [
        OpenAIModel(
            id=model,
            created=MODELS_CREATED,
            owned_by="voiceclone",
            engine=states.get(ENGINE_MODEL_NAMES.get(model, model), states[engine.name]),
        )
        for model in openai_model_ids(held.values())
    ]
    others = [
        OpenAIModel(
            id=info.name,
            created=MODELS_CREATED,
            owned_by="voiceclone",
            engine=_engine_state(info, served=False),
        )
        for info in describe_engines()
        if info.name not in held
    ]
    return OpenAIModelList(data=[*speakable, *others])


def _engine_state(info: EngineInfo, served: bool) -> EngineState:
    return EngineState(**dataclasses.asdict(info), served=served)
