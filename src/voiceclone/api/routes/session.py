"""``/v1/session``: the web app signs in with an API key once and gets an HttpOnly,
SameSite=Strict cookie; the key itself never lives in the page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from voiceclone.api.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionDep,
    SettingsDep,
    caller_for_cookie,
)
from voiceclone.api.schemas import ERROR_RESPONSES, SessionCreate, SessionOut
from voiceclone.errors import Unauthorized
from voiceclone.services import sessions

router = APIRouter(prefix="/v1/session", tags=["web session"], responses=ERROR_RESPONSES)


@router.post("", response_model=SessionOut, summary="Sign in: exchange an API key for a cookie")
def sign_in(
    request: Request,
    response: Response,
    body: SessionCreate,
    session: SessionDep,
    settings: SettingsDep,
) -> SessionOut:
    opened = sessions.sign_in(session, body.api_key, settings)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return SessionOut(
        owner=opened.caller.owner, csrf_token=opened.csrf_token, expires_at=opened.expires_at
    )


@router.get("", response_model=SessionOut, summary="Who is signed in, and the CSRF token")
def current(request: Request, session: SessionDep) -> SessionOut:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("You are not signed in. Sign in with your API key.")
    info = sessions.current_session(session, cookie)
    return SessionOut(
        owner=info.caller.owner, csrf_token=info.csrf_token, expires_at=info.expires_at
    )


@router.delete("", status_code=204, summary="Sign out")
def sign_out(request: Request, session: SessionDep) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            caller_for_cookie(
                request.app.state.session_factory,
                cookie,
                "DELETE",
                request.headers.get(CSRF_HEADER),
            )
        except sessions.SessionExpired:
            pass  # already over: only the cookie is left to clear
        else:
            sessions.sign_out(session, cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
