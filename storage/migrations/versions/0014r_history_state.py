"""The state the update history gives, kept on each assignment row (issue 11, the roll-up).

``assignment.history_status/percent/at`` and ``done_since``, and the same four at the start
of the week, month, quarter, half-year and year of the latest update (``<kind>_mark``): the
roll-up reads them instead of probing the history per assignment (storage/history_state.py).
Existing rows are computed from their history here, in the configured time zone
(app.timezone, as the bot computes period bounds).

Revision ID: 0014r
Revises: 0013o
Create Date: 2026-12-02 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.enums
import storage.types
from storage.history_state import FIELDS, MARK_KINDS, backfill

revision = "0014r"
down_revision = "0013o"
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column[object]]:
    def group(prefix: str, since: str) -> list[sa.Column[object]]:
        return [
            sa.Column(f"{prefix}_status", storage.enums.AssignmentStatusText(), nullable=True),
            sa.Column(f"{prefix}_percent", sa.Integer(), nullable=True),
            sa.Column(f"{prefix}_at", storage.types.UTCDateTime(), nullable=True),
            sa.Column(since, storage.types.UTCDateTime(), nullable=True),
        ]

    out = group("history", "done_since")
    for kind in MARK_KINDS:
        out.append(sa.Column(f"{kind}_mark", storage.types.UTCDateTime(), nullable=True))
        out.extend(group(kind, f"{kind}_done_since"))
    assert len(out) == len(FIELDS) * (1 + len(MARK_KINDS)) + len(MARK_KINDS)
    return out


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        for column in _columns():
            batch_op.add_column(column)
    backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
