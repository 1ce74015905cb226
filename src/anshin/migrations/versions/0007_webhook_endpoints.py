"""webhook endpoints: one delivery in flight per endpoint, and its backoff, shared by workers

- ``notify_webhook_endpoints``: one row per webhook subscriber: the lease of the
  delivery in flight (``busy_by``, ``busy_until``), consecutive failures and
  when the endpoint may be tried again (``next_attempt_at``). Rows are written
  by the workers as webhook work appears; none are needed at upgrade time.
- ``notify_deliveries.last_error`` of webhooks: an answer's body was kept after
  its status (``HTTP 500 <body>``); only the status stays, so staff never see
  what a receiver answered.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notify_webhook_endpoints",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("busy_by", sa.String(length=120), nullable=True),
        sa.Column("busy_until", sa.DateTime(), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["notify_subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id"),
    )
    deliveries = sa.table(
        "notify_deliveries", sa.column("channel", sa.String), sa.column("last_error", sa.Text)
    )
    op.execute(
        deliveries.update()
        .where(deliveries.c.channel == "webhook", deliveries.c.last_error.like("HTTP ___ %"))
        .values(last_error=sa.func.substr(deliveries.c.last_error, 1, 8))
    )


def downgrade() -> None:
    op.drop_table("notify_webhook_endpoints")
