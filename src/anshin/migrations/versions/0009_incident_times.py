"""incident times: the report a resolution notice promises, and when it was published

- ``incidents.report_due_at``: the date by which the resolution notice
  promised the report with the cause and prevention measures (R7, R8); the
  dashboard counts down to it;
- ``incidents.report_published_at``: when the report notice went out, which
  clears that due item.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
# The revision id of 0006_console_staff.py is "0006" (the integrator re-chains branches).
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("report_published_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("report_published_at")
        batch_op.drop_column("report_due_at")
