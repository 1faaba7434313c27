"""The web console: one-time sign-in codes and the audit log.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consolelogincode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("official_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["official_id"], ["official.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consolelogincode", schema=None) as batch_op:
        batch_op.create_index("ix_consolelogincode_official_id", ["official_id"], unique=False)
        batch_op.create_index("ix_consolelogincode_code_hash", ["code_hash"], unique=False)
    op.create_table(
        "auditentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("official_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["official_id"], ["official.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.create_index("ix_auditentry_at", ["at"], unique=False)
        batch_op.create_index("ix_auditentry_official_id", ["official_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.drop_index("ix_auditentry_official_id")
        batch_op.drop_index("ix_auditentry_at")
    op.drop_table("auditentry")
    with op.batch_alter_table("consolelogincode", schema=None) as batch_op:
        batch_op.drop_index("ix_consolelogincode_code_hash")
        batch_op.drop_index("ix_consolelogincode_official_id")
    op.drop_table("consolelogincode")
