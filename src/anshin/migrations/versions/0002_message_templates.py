"""message templates (comms): versioned templates per kind, locale and channel

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "locale", "channel"),
    )
    op.create_table(
        "message_template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["message_templates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template_id", "version"),
    )
    with op.batch_alter_table("message_template_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_template_versions_template_id"), ["template_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_template_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_template_versions_template_id"))
    op.drop_table("message_template_versions")
    op.drop_table("message_templates")
