"""``/v1/consent``: what this server requires before cloning, and spoken-consent challenges."""

from __future__ import annotations

from fastapi import APIRouter

from voiceclone.api.deps import OwnerDep, SessionDep, SettingsDep
from voiceclone.api.schemas import (
    ERROR_RESPONSES,
    ConsentChallengeCreate,
    ConsentChallengeOut,
    ConsentPolicy,
)
from voiceclone.safety.consent import ATTEST_STATEMENT, ATTEST_VERSION, new_challenge

router = APIRouter(prefix="/v1/consent", tags=["trust and safety"], responses=ERROR_RESPONSES)


@router.get("", response_model=ConsentPolicy, summary="The consent this server requires")
def consent_policy(owner: OwnerDep, settings: SettingsDep) -> ConsentPolicy:
    if settings.consent == "attest":
        return ConsentPolicy(
            mode="attest", statement_version=ATTEST_VERSION, statement=ATTEST_STATEMENT
        )
    return ConsentPolicy(mode=settings.consent)


@router.post(
    "/challenges",
    status_code=201,
    response_model=ConsentChallengeOut,
    summary="A one-time sentence for the speaker to read aloud (spoken consent)",
)
def create_challenge(
    body: ConsentChallengeCreate, owner: OwnerDep, session: SessionDep, settings: SettingsDep
) -> ConsentChallengeOut:
    challenge = new_challenge(session, owner, body.language, settings)
    return ConsentChallengeOut(
        id=challenge.id, text=challenge.text, expires_at=challenge.expires_at
    )
