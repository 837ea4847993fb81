"""Request bodies over the limit are refused before they are read, as one ASGI middleware.

A JSON body is read whole before a route's checks (the API key among them) run, so without
a cap a client could make the server hold a body of any size. Here a ``Content-Length``
over ``max_request_bytes`` is answered 413 at once, and a chunked body is cut off as soon
as it passes the limit. Multipart uploads are left to :mod:`voiceclone.api.uploads`, which
streams them to disk under their own, larger limit after the key is checked.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voiceclone.api.error_responses import error_response

MULTIPART = b"multipart/form-data"


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return b""


def too_large_message(limit: int) -> str:
    return (
        f"The request body is larger than {limit:,} bytes, the most this route reads. "
        "Send long texts as a job, in several requests, or as an uploaded file."
    )


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _header(scope, b"content-type").startswith(MULTIPART):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(
                413, "payload_too_large", too_large_message(self.max_bytes), {"Connection": "close"}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, self._limited(receive), send)

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, too_large_message(self.max_bytes))
            return message

        return receive_within_limit
