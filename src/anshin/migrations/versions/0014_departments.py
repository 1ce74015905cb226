"""departments: the other departments an inquiry is shared with, and their routing (R21)

- ``departments``: key, labels (ja/en), internal mail address and its language, an
  optional webhook, the intents, components and customer tiers each one receives,
  active or disabled. Who shared which inquiry with whom lives in the event log
  (``inquiry.shared_with_departments``), the messages in the outbox.

Revision ID: 0014_departments
Revises: 0013
Create Date: 2026-12-06 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_departments"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("component_ids", sa.JSON(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("departments")
