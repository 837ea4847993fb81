"""Trust and safety: consent evidence, consent challenges, key limits and roles, audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.add_column(
            sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("requests_per_minute", sa.Integer(), nullable=True))
        table.add_column(sa.Column("chars_per_day", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("max_streams", sa.Integer(), nullable=True))
        table.add_column(sa.Column("max_voices", sa.Integer(), nullable=True))
    with op.batch_alter_table("voices") as table:
        table.add_column(sa.Column("consent", sa.JSON(), nullable=True))

    op.create_table(
        "consent_challenges",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_consent_challenges_owner", "consent_challenges", ["owner"])

    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_events_owner_at", "audit_events", ["owner", "at"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("consent_challenges")
    with op.batch_alter_table("voices") as table:
        table.drop_column("consent")
    with op.batch_alter_table("api_keys") as table:
        for column in ("max_voices", "max_streams", "chars_per_day", "requests_per_minute"):
            table.drop_column(column)
        table.drop_column("is_admin")
