"""``/v1/speech``: audio streamed while it is made, over HTTP or a WebSocket.

WebSocket protocol (``/v1/speech/ws``):

1. Authenticate with ``Authorization: Bearer <key>`` on the upgrade request, or put
   ``"api_key"`` in the first message, or (the web app) send the session cookie from a page
   of this server.
2. The client sends a JSON config: ``{"voice": ..., "engine": ..., "language": ...,
   "format": "pcm", "speed": 1.0}`` (only ``voice`` is required; ``engine`` one this server
   holds; ``format`` defaults to ``pcm``, s16le mono at the rate given in the reply). The
   server answers ``{"type": "ready", "format", "content_type", "sample_rate"}``.
3. The client sends text: plain text frames, or ``{"type": "text", "text": "..."}``.
   Synthesis starts as soon as a clause is complete; the server sends binary audio frames
   as they are made, each followed by ``{"type": "word", "text", "start", "end"}`` frames
   for the words encoded so far (seconds from the start of the utterance's audio).
4. ``{"type": "flush"}`` ends the current utterance: the rest of its audio follows, then
   ``{"type": "done"}``; more text may follow (a new utterance; wav/mp3/... start a new
   stream with its own header). ``{"type": "end"}`` does the same, then closes the socket.

Errors arrive as ``{"type": "error", "error": {"code", "message"}}`` followed by a close.
If the client goes away, synthesis stops before the next chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from voiceclone.api.deps import (
    SESSION_COOKIE,
    CallerDep,
    LiveSlotDep,
    PipelineDep,
    QuotasDep,
    SessionDep,
    StoreDep,
    caller_for_cookie,
    caller_for_token,
)
from voiceclone.api.responses import audio_stream_response, speech_events_response
from voiceclone.api.schemas import ERROR_RESPONSES, SpeechCreate
from voiceclone.audio.chunk import WordTiming
from voiceclone.audio.encode import FORMATS
from voiceclone.errors import Forbidden, InvalidRequest, InvalidText, Unauthorized, VoiceCloneError
from voiceclone.services.api_keys import Caller
from voiceclone.services.pipeline import SpeechPipeline, SpeechRequest
from voiceclone.services.quotas import Quotas
from voiceclone.services.streaming import TextFeed
from voiceclone.settings import Settings

router = APIRouter(prefix="/v1/speech", tags=["speech"], responses=ERROR_RESPONSES)
log = logging.getLogger(__name__)

WS_POLICY_VIOLATION = 1008
WS_INVALID_DATA = 1007
WS_UNSUPPORTED_DATA = 1003
WS_INTERNAL_ERROR = 1011
BINARY_FRAME = "binary_frame"
IDLE_TIMEOUT = "idle_timeout"


@router.post(
    "",
    response_class=StreamingResponse,
    summary="Speak text, streaming the audio as it is made (chunked), or as events",
    responses={
        200: {
            "content": {
                **{spec.content_type.split(";")[0]: {} for spec in FORMATS.values()},
                "text/event-stream": {},
            },
            "description": "The audio (stream_format audio), or server-sent events (sse).",
        }
    },
)
def speech(
    request: Request,
    body: SpeechCreate,
    slot: LiveSlotDep,
    caller: CallerDep,
    session: SessionDep,
    store: StoreDep,
    quotas: QuotasDep,
    pipeline: PipelineDep,
) -> StreamingResponse:
    speech = pipeline.plan(
        session,
        store,
        caller.owner,
        text=body.text,
        voice=body.voice,
        engine=body.engine,
        language=body.language,
        format=body.format,
        speed=body.speed,
    )
    release = quotas.open_stream(caller, chars=len(body.text), admitted=slot.hand_over())
    respond = speech_events_response if body.stream_format == "sse" else audio_stream_response
    return respond(request, pipeline, speech, release)


# -- WebSocket ------------------------------------------------------------------------------


class _Utterance:
    """Text of one utterance as it arrives, and whether the socket closes after it."""

    def __init__(self) -> None:
        self.feed = TextFeed()
        self.chars = 0
        self.final = False


class _ClientGone(Exception):
    pass


@router.websocket("/ws")
async def speech_ws(websocket: WebSocket) -> None:
    await websocket.accept()
    quotas: Quotas = websocket.app.state.quotas
    pipeline: SpeechPipeline = websocket.app.state.pipeline
    try:
        config = await _receive_json(websocket)
        caller = await run_in_threadpool(_caller, websocket, config)
        await run_in_threadpool(quotas.count_request, caller)
        admitted = pipeline.capacity.admit()  # a full server says so at once
        try:
            speech = await run_in_threadpool(_plan_live, websocket, caller.owner, config)
            release = await run_in_threadpool(quotas.open_stream, caller, 0, admitted)
        except BaseException:
            admitted()
            raise
    except WebSocketDisconnect:
        return
    except VoiceCloneError as error:
        await _close_with_error(websocket, error.code, error.message, _close_code(error))
        return
    try:
        await _serve(websocket, pipeline, speech, lambda chars: quotas.spend_chars(caller, chars))
    finally:
        release()


async def _serve(
    websocket: WebSocket,
    pipeline: SpeechPipeline,
    speech: SpeechRequest,
    charge: Callable[[int], None],
) -> None:
    await websocket.send_json(
        {
            "type": "ready",
            "format": speech.format,
            "content_type": speech.content_type,
            "sample_rate": pipeline.engines[speech.engine].sample_rate,
        }
    )
    await _run_session(websocket, pipeline, speech, charge)


def _caller(websocket: WebSocket, config: dict[str, Any]) -> Caller:
    """An API key (header or first message) or, from the web app, the session cookie; a
    cookie only counts from a page of this same server (the Origin is checked)."""
    factory = websocket.app.state.session_factory
    token = _token(websocket, config)
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if token or not cookie:
        return caller_for_token(factory, token, websocket.app.state.oidc)
    origin = websocket.headers.get("origin")
    if origin and urlsplit(origin).netloc != websocket.headers.get("host"):
        raise Forbidden("This socket was opened from another site.", code="csrf_failed")
    return caller_for_cookie(factory, cookie, "GET", None)


def _token(websocket: WebSocket, config: dict[str, Any]) -> str | None:
    scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    key = config.get("api_key")
    return key if isinstance(key, str) else None


def _engine_name(config: dict[str, Any]) -> str | None:
    name = config.get("engine")
    if name is not None and not isinstance(name, str):
        raise InvalidRequest('"engine" must be the name of an engine.', code="invalid_request")
    return name


def _plan_live(websocket: WebSocket, owner: str, config: dict[str, Any]) -> SpeechRequest:
    """The socket's voice and settings, checked before any text arrives."""
    pipeline: SpeechPipeline = websocket.app.state.pipeline
    engine = pipeline.engine(_engine_name(config)).name
    voice = config.get("voice")
    if not isinstance(voice, str) or not voice:
        raise InvalidRequest('The first message must name a "voice".', code="missing_voice")
    speed = config.get("speed", 1.0)
    if not isinstance(speed, int | float) or isinstance(speed, bool):
        raise InvalidRequest("speed must be a number.", code="invalid_speed")
    fmt = config.get("format") or "pcm"
    language = config.get("language")
    with websocket.app.state.session_factory() as session:
        return pipeline.plan(
            session,
            websocket.app.state.store,
            owner,
            text=None,
            voice=voice,
            engine=engine,
            language=language,
            format=str(fmt),
            speed=float(speed),
            route="live",
        )


def _close_code(error: VoiceCloneError) -> int:
    if isinstance(error, Unauthorized | Forbidden) or error.code == IDLE_TIMEOUT:
        return WS_POLICY_VIOLATION
    return WS_UNSUPPORTED_DATA if error.code == BINARY_FRAME else WS_INVALID_DATA


async def _receive_text(websocket: WebSocket) -> str:
    """The next text frame; a binary frame is refused (this protocol sends text only)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        raise InvalidRequest(
            "Send text frames (JSON messages or plain text), not binary frames.",
            code=BINARY_FRAME,
        )
    return str(text)


async def _receive_json(websocket: WebSocket) -> dict[str, Any]:
    text = await _receive_text(websocket)
    try:
        message = json.loads(text)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        raise InvalidRequest(
            'The first message must be a JSON object such as {"voice": "af_heart"}.',
            code="invalid_config",
        )
    return message


async def _close_with_error(websocket: WebSocket, code: str, message: str, close_code: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "error", "error": {"code": code, "message": message}})
        await websocket.close(code=close_code)


async def _run_session(
    websocket: WebSocket,
    pipeline: SpeechPipeline,
    speech: SpeechRequest,
    charge: Callable[[int], None],
) -> None:
    """Receive text and control messages while utterances are synthesized in order;
    ``charge`` counts each piece of text against the key's characters per day."""
    utterances_in, utterances_out = anyio.create_memory_object_stream[_Utterance](100)
    settings = websocket.app.state.settings
    max_chars = settings.max_job_chars
    failure: list[VoiceCloneError] = []
    speaking = _SpeakingState()

    async def receive() -> None:
        current = _Utterance()
        await utterances_in.send(current)
        try:
            while True:
                kind, text = _parse(await _receive_unless_idle(websocket, speaking, settings))
                if kind == "text":
                    if current.chars + len(text) > max_chars:
                        raise InvalidText(
                            f"An utterance may hold at most {max_chars:,} characters; "
                            "send a flush between long passages.",
                            code="text_too_long",
                        )
                    await run_in_threadpool(charge, len(text))
                    current.chars += len(text)
                    current.feed.put(text)
                    continue
                current.final = kind == "end"
                current.feed.end()
                if current.final:
                    return
                current = _Utterance()
                await utterances_in.send(current)
        except (WebSocketDisconnect, RuntimeError):
            current.feed.abort()
            raise _ClientGone from None
        except VoiceCloneError as error:
            current.feed.abort()
            failure.append(error)
            raise
        finally:
            utterances_in.close()

    async def speak() -> None:
        async for utterance in utterances_out:
            await _speak_utterance(pipeline, speech, websocket, utterance, speaking)
            if utterance.feed.aborted.is_set():
                return
            await websocket.send_json({"type": "done"})
            if utterance.final:
                return

    try:
        async with anyio.create_task_group() as group:

            async def speak_then_stop() -> None:
                await speak()
                group.cancel_scope.cancel()

            group.start_soon(receive)
            group.start_soon(speak_then_stop)
    except Exception as exc:
        errors = _leaves(exc)
        if any(isinstance(error, _ClientGone) for error in errors):
            return
        known = failure or [e for e in errors if isinstance(e, VoiceCloneError)]
        if known:
            error = known[0]
            await _close_with_error(websocket, error.code, error.message, _close_code(error))
        else:
            log.error("speech websocket failed", exc_info=exc)
            await _close_with_error(
                websocket, "internal_error", "Synthesis failed unexpectedly.", WS_INTERNAL_ERROR
            )
        return
    if websocket.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close()


class _SpeakingState:
    """Whether audio of this socket is being made, sent or (by its words' timings) still
    played by the client: the idle clock does not run out meanwhile."""

    def __init__(self) -> None:
        self.active = False
        self.started = 0.0
        self.plays_until = 0.0

    def start(self) -> None:
        if not self.active:
            self.active, self.started = True, time.monotonic()

    def heard_up_to(self, seconds: float) -> None:
        self.plays_until = max(self.plays_until, self.started + seconds)

    def busy(self) -> bool:
        return self.active or time.monotonic() < self.plays_until


async def _receive_unless_idle(
    websocket: WebSocket, speaking: _SpeakingState, settings: Settings
) -> str:
    """The next text frame; a socket that sends nothing for ``ws_idle_seconds`` while none
    of its audio is under way is refused, so an idle client cannot keep a live place."""
    while True:
        with anyio.move_on_after(settings.ws_idle_seconds):
            return await _receive_text(websocket)
        if not speaking.busy():
            raise InvalidRequest(
                f"No text arrived for {settings.ws_idle_seconds:g} seconds; the stream was "
                "closed so its place goes to others. Open a new one when you have text.",
                code=IDLE_TIMEOUT,
            )


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (possibly nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _parse(message: str) -> tuple[str, str]:
    """``("text", piece)``, ``("flush", "")`` or ``("end", "")``."""
    stripped = message.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict) and "type" in data:
            kind = data["type"]
            if kind == "text" and isinstance(data.get("text"), str):
                return "text", data["text"]
            if kind in ("flush", "end"):
                return kind, ""
            raise InvalidRequest(
                f"Unknown message type {kind!r}: send text, "
                '{"type": "text", "text": ...}, {"type": "flush"} or {"type": "end"}.',
                code="invalid_message",
            )
    return "text", message


async def _speak_utterance(
    pipeline: SpeechPipeline,
    speech: SpeechRequest,
    websocket: WebSocket,
    utterance: _Utterance,
    speaking: _SpeakingState,
) -> None:
    """Synthesize one utterance in a worker thread, sending each piece as it is ready."""
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue[bytes | dict[str, Any] | BaseException | None] = asyncio.Queue()
    feed = utterance.feed
    words: list[WordTiming] = []

    def work() -> None:
        stream = None
        try:
            head = _leading_text(feed)  # wait for text: an empty utterance makes no audio
            if head is None:
                return
            utterance_speech = speech.with_text(itertools.chain(head, feed))
            stream = pipeline.encode(utterance_speech, on_words=words.extend)
            for data in stream:
                if feed.aborted.is_set():
                    break
                loop.call_soon_threadsafe(pieces.put_nowait, data)
                while words:
                    loop.call_soon_threadsafe(pieces.put_nowait, _word_frame(words.pop(0)))
        except BaseException as exc:  # handed to the event loop and raised there
            loop.call_soon_threadsafe(pieces.put_nowait, exc)
        finally:
            if stream is not None:
                stream.close()
            loop.call_soon_threadsafe(pieces.put_nowait, None)

    # A thread of its own: it may wait a long time for text, and must not hold a pool slot.
    worker = threading.Thread(target=work, name="voiceclone-ws-speech", daemon=True)
    worker.start()
    finished = False
    try:
        while (item := await pieces.get()) is not None:
            speaking.start()
            if isinstance(item, BaseException):
                raise item
            try:
                if isinstance(item, dict):
                    speaking.heard_up_to(item["end"])
                    await websocket.send_json(item)
                else:
                    await websocket.send_bytes(item)
            except (WebSocketDisconnect, RuntimeError):
                raise _ClientGone from None
        finished = True
    finally:
        speaking.active = False
        if not finished:  # cancelled, client gone or failed: stop the worker's synthesis
            feed.abort()


def _word_frame(word: WordTiming) -> dict[str, Any]:
    return {"type": "word", "text": word.text, "start": word.start, "end": word.end}


def _leading_text(feed: TextFeed) -> list[str] | None:
    """The pieces up to and including the first that is not blank (None if there is none),
    so a stream that opens with a space or a newline is not taken for empty text."""
    head = []
    for piece in feed:
        head.append(piece)
        if piece.strip():
            return head
    return None
