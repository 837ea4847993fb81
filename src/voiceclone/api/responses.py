"""Responses that stream: stored objects with HTTP Range, and audio as the engine makes it."""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import anyio.to_thread
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from voiceclone.api.error_responses import error_response
from voiceclone.audio.chunk import WordTiming
from voiceclone.audio.encode import FORMATS
from voiceclone.errors import VoiceCloneError
from voiceclone.services.pipeline import SpeechPipeline, SpeechRequest
from voiceclone.storage.base import ObjectStore

T = TypeVar("T")

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_DONE = object()
FILE_BLOCK_BYTES = 256 * 1024


class RangeNotSatisfiable(VoiceCloneError):
    code = "range_not_satisfiable"
    status = 416


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single-range ``Range`` header, or None for the whole
    object (no header, a multi-range or an unparseable one — RFC 9110 lets servers ignore
    those). Raises :class:`RangeNotSatisfiable` for a range entirely past the end."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(f"Range {header!r} is empty for a {size}-byte object.")
        return max(size - length, 0), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if last and int(last) < start:
        return None  # invalid: ignore, as RFC 9110 says
    if start >= size:
        raise RangeNotSatisfiable(
            f"Range {header!r} starts past the end of the {size}-byte object."
        )
    return start, end


def object_response(
    request: Request,
    store: ObjectStore,
    key: str,
    size: int,
    media_type: str,
    filename: str | None = None,
    download: bool = False,
) -> Response:
    """Serve a stored object, streamed from the store in pieces (never loaded whole).
    ``download``: ask the browser to save it rather than play it."""

    def read(start: int, end: int) -> Iterator[bytes]:
        return store.iter_range(key, start, end)

    return ranged_response(request, size, read, media_type, filename, download=download)


def file_response(
    request: Request,
    path: Path,
    media_type: str,
    filename: str | None = None,
    cleanup: Callable[[], None] | None = None,
    download: bool = False,
) -> Response:
    """Serve a local file like :func:`object_response`; ``cleanup`` runs afterwards."""

    def read(start: int, end: int) -> Iterator[bytes]:
        with path.open("rb") as source:
            source.seek(start)
            remaining = end - start
            while remaining > 0 and (block := source.read(min(FILE_BLOCK_BYTES, remaining))):
                remaining -= len(block)
                yield block

    size = path.stat().st_size
    background = BackgroundTask(cleanup) if cleanup is not None else None
    return ranged_response(
        request, size, read, media_type, filename, cleanup, background, download=download
    )


def ranged_response(
    request: Request,
    size: int,
    read: Callable[[int, int], Iterator[bytes]],
    media_type: str,
    filename: str | None = None,
    on_close: Callable[[], None] | None = None,
    background: BackgroundTask | None = None,
    *,
    download: bool = False,
) -> Response:
    """``Accept-Ranges: bytes``; a single-range ``Range`` request gets 206 with
    ``Content-Range``, one past the end 416. ``read(start, end)`` yields bytes [start, end)."""
    try:
        byte_range = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable as error:
        if on_close is not None:
            on_close()
        return error_response(416, error.code, error.message, {"Content-Range": f"bytes */{size}"})
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=0"}
    if filename:
        disposition = "attachment" if download else "inline"
        headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    if byte_range is None:
        start, end, status = 0, size, 200
    else:
        start, end = byte_range
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    body = read(start, end) if end > start else iter(())
    return StreamingResponse(
        iterate_in_thread(body, request, on_close),
        status_code=status,
        media_type=media_type,
        headers=headers,
        background=background,
    )


async def iterate_in_thread(
    iterator: Iterator[T],
    request: Request | None = None,
    on_close: Callable[[], None] | None = None,
) -> AsyncIterator[T]:
    """Drive a blocking iterator from worker threads, one item at a time, so the event loop
    stays free. Stops between items as soon as the client has gone, and always closes the
    iterator (a generator's ``finally`` then runs at once, e.g. ending synthesis).

    The threads come from the app's stream limiter, not the shared pool: a chunk of speech
    can take seconds, and many streams must not starve the quick routes of threads.
    """
    limiter = getattr(request.app.state, "stream_limiter", None) if request else None
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, iterator, _DONE, limiter=limiter)
            if item is _DONE:
                break
            yield item  # type: ignore[misc]
            if request is not None and await request.is_disconnected():
                break
    finally:
        # Not awaited: this also runs when the response task is cancelled on disconnect.
        # No thread is inside the iterator here: run_sync waits for its thread to return.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
        if on_close is not None:
            on_close()


#: Sent with live audio: never cache it, and tell proxies not to buffer it.
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def audio_stream_response(
    request: Request,
    pipeline: SpeechPipeline,
    speech: SpeechRequest,
    on_close: Callable[[], None] | None = None,
) -> StreamingResponse:
    """Chunked audio, each piece sent as soon as the engine has made it. The synthesis
    generator runs in worker threads and is closed the moment the client goes away;
    ``on_close`` runs then too (and at once if synthesis fails before the first chunk)."""
    body = opened_stream(lambda: pipeline.encode(speech), on_close)
    return StreamingResponse(
        iterate_in_thread(body, request, on_close),
        media_type=speech.content_type,
        headers=STREAM_HEADERS,
    )


def speech_events_response(
    request: Request,
    pipeline: SpeechPipeline,
    speech: SpeechRequest,
    on_close: Callable[[], None] | None = None,
    *,
    words: bool = True,
) -> StreamingResponse:
    """The same speech as server-sent events: ``speech.audio.delta`` (base64 audio in the
    requested format), with ``words`` also ``speech.word`` (``text``, ``start``, ``end`` in
    seconds of that audio) as the audio is made, then ``speech.audio.done`` with usage
    (or ``error``, should synthesis fail after the first event)."""
    timings: list[WordTiming] = []
    sink = timings.extend if words else None
    body = opened_stream(lambda: pipeline.encode(speech, on_words=sink), on_close)
    text = speech.text if isinstance(speech.text, str) else ""
    return StreamingResponse(
        iterate_in_thread(_speech_events(body, text, timings), request, on_close),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )


def _speech_events(audio: Iterator[bytes], text: str, words: list[WordTiming]) -> Iterator[bytes]:
    output_bytes = 0
    try:
        for data in audio:
            output_bytes += len(data)
            yield _event("speech.audio.delta", {"audio": base64.b64encode(data).decode()})
            while words:
                word = words.pop(0)
                timing = {"text": word.text, "start": word.start, "end": word.end}
                yield _event("speech.word", timing)
    except VoiceCloneError as error:  # after the first event: the stream can only say so
        yield _event("error", {"error": {"code": error.code, "message": error.message}})
        return
    finally:
        close = getattr(audio, "close", None)
        if close is not None:
            close()
    yield _event("speech.audio.done", {"usage": _approximate_usage(text, output_bytes)})


def _approximate_usage(text: str, output_bytes: int) -> dict[str, int]:
    """Token counts in OpenAI's shape; approximations (there is no tokenizer for billing)."""
    input_tokens = max(1, len(text) // 4)
    output_tokens = max(1, output_bytes // 1024)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _event(kind: str, data: dict[str, object]) -> bytes:
    payload = json.dumps({"type": kind, **data}, ensure_ascii=False, separators=(",", ":"))
    return f"event: {kind}\ndata: {payload}\n\n".encode()


def opened_stream(open_body: Callable[[], T], on_close: Callable[[], None] | None) -> T:
    """``open_body()``, running ``on_close`` if it fails (nothing will stream then)."""
    try:
        return open_body()
    except BaseException:
        if on_close is not None:
            on_close()
        raise


def media_type_for(key: str) -> str:
    """Content type of a stored object, from its extension."""
    extension = key.rsplit(".", 1)[-1].lower() if "." in key else ""
    for spec in FORMATS.values():
        if spec.extension == extension:
            return spec.content_type
    guessed, _ = mimetypes.guess_type(f"object.{extension}")
    return guessed or "application/octet-stream"
