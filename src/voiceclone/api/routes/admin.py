"""``/v1/admin``: everyone's keys, their usage, revocation and the audit log (admin keys)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from voiceclone.api.deps import AdminDep, QuotasDep, SessionDep
from voiceclone.api.schemas import (
    ERROR_RESPONSES,
    AdminKey,
    AdminKeyList,
    AuditList,
    AuditOut,
    UsageList,
    UsageOut,
)
from voiceclone.services import api_keys, audit
from voiceclone.services.usage import usage_rows

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.get("/keys", response_model=AdminKeyList, summary="Every API key (never the key itself)")
def list_keys(
    admin: AdminDep, session: SessionDep, owner: str | None = Query(None, max_length=63)
) -> AdminKeyList:
    return AdminKeyList(
        keys=[AdminKey.model_validate(key) for key in api_keys.list_api_keys(session, owner)]
    )


@router.delete("/keys/{key_id}", response_model=AdminKey, summary="Revoke any API key")
def revoke_key(key_id: str, admin: AdminDep, session: SessionDep) -> AdminKey:
    return AdminKey.model_validate(api_keys.revoke_any(session, key_id, admin))


@router.get("/usage", response_model=UsageList, summary="What each live key has used")
def usage(
    admin: AdminDep,
    session: SessionDep,
    quotas: QuotasDep,
    owner: str | None = Query(None, max_length=63),
) -> UsageList:
    return UsageList(
        usage=[UsageOut.model_validate(row) for row in usage_rows(session, quotas, owner)]
    )


@router.get("/audit", response_model=AuditList, summary="The audit log, newest first")
def audit_log(
    admin: AdminDep,
    session: SessionDep,
    owner: str | None = Query(None, max_length=63),
    limit: int = Query(100, ge=1, le=1000),
) -> AuditList:
    return AuditList(
        events=[AuditOut.model_validate(entry) for entry in audit.entries(session, owner, limit)]
    )
