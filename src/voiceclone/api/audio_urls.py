"""The URLs the API hands out for audio: signed, so they play with no header."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from voiceclone.services.signed_links import LinkSigner, job_audio_object, preview_object


def stream_path(request: Request, links: LinkSigner, owner: str, key: str) -> str:
    """``/results/stream?blob=…`` (a path: the original API's ``proxy_stream_url``)."""
    path = request.url_for("stream_result").path
    return f"{path}?blob={quote(key, safe='/')}&{links.query(key, owner)}"


def stream_url(request: Request, links: LinkSigner, owner: str, key: str) -> str:
    return str(request.base_url).rstrip("/") + stream_path(request, links, owner, key)


def job_audio_url(request: Request, links: LinkSigner, owner: str, job_id: str) -> str:
    url = request.url_for("get_job_audio", job_id=job_id)
    return f"{url}?{links.query(job_audio_object(job_id), owner)}"


def preview_url(request: Request, links: LinkSigner, owner: str, voice_id: str) -> str:
    url = request.url_for("preview_voice", voice_id=voice_id)
    return f"{url}?{links.query(preview_object(voice_id), owner)}"
