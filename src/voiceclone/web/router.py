"""Serves the web app at ``/``: the page and its static files, from the installed package
(nothing is fetched at run time). The API key never reaches the page: it signs in through
``POST /v1/session`` and the browser keeps an HttpOnly cookie."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from voiceclone.errors import NotFound

router = APIRouter(include_in_schema=False)

STATIC = resources.files("voiceclone.web").joinpath("static")
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
#: Only this page's own files, media it made itself (blob:) and its own API.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    page = STATIC.joinpath("index.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    asset = STATIC.joinpath(name)
    if "/" in name or name.startswith(".") or suffix not in CONTENT_TYPES or not asset.is_file():
        raise NotFound(f"No such file: {name[:80]!r}.")
    return Response(
        asset.read_bytes(),
        media_type=CONTENT_TYPES[suffix],
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )
