"""console: on-duty staff, staff nudges sent once, when each delivery was last attempted

- ``users.on_duty``: who receives the staff nudges (incidents.nudges);
- ``incident_nudges``: one row per nudge sent, unique per incident, kind and due
  time, so any number of processes send each nudge once;
- ``notify_deliveries.last_attempt_at``: when a worker last took the delivery to
  send it, for the console's "who was notified" page.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(), nullable=True))
    op.create_table(
        "incident_nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["notify_messages.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "kind", "due_at", name="uq_incident_nudges_once"),
    )


def downgrade() -> None:
    op.drop_table("incident_nudges")
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.drop_column("last_attempt_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("on_duty")
