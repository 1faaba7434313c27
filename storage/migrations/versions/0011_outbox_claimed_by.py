"""The outbox claim's owner: which worker process holds a row's lease.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 08:00:00

Several workers share one PostgreSQL outbox; a claim names its worker ("host:pid:random"), so
a worker starting up releases only claims whose lease has run out, never another live
worker's send in flight.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.drop_column("claimed_by")
