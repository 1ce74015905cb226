"""subscribe rate limit: one row per accepted public subscribe request (notify.ratelimit)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:37:45.154672
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notify_subscribe_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notify_subscribe_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notify_subscribe_requests_client", ["client", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notify_subscribe_requests_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notify_subscribe_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notify_subscribe_requests_created_at"))
        batch_op.drop_index("ix_notify_subscribe_requests_client")

    op.drop_table("notify_subscribe_requests")
