"""Invite codes stored hashed; wrong-code lockout per chat.

Revision ID: 0007
Revises: 0002
Create Date: 2026-12-02 07:00:00

- ``invite.code`` (the plain code) becomes ``invite.code_hash``: PBKDF2-SHA256 of the code,
  as ``storage.invites.hash_code`` computes it. Existing codes are hashed here, so codes
  already printed keep working. The two parameters are copied, not imported: a migration
  must hash the way it did when it was written.
- ``invitelockout``: wrong codes counted per chat (``storage.lockout``).

Downgrade cannot give the plain codes back: unused invites stop working (the admin prints
new ones with ``papi-bot invite``).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

HASH_ROUNDS = 20_000
HASH_SALT = b"papi-bot invite code v1"


def _hash(code: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", code.upper().encode(), HASH_SALT, HASH_ROUNDS).hex()


def upgrade() -> None:
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code_hash", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    invite = sa.table("invite", sa.column("id", sa.Integer), sa.column("code", sa.String))
    hashed = sa.table("invite", sa.column("id", sa.Integer), sa.column("code_hash", sa.String))
    for row_id, code in connection.execute(sa.select(invite.c.id, invite.c.code)).all():
        connection.execute(
            sa.update(hashed).where(hashed.c.id == row_id).values(code_hash=_hash(code))
        )
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_index("ix_invite_code")
        batch_op.drop_column("code")
        batch_op.alter_column("code_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("ix_invite_code_hash", ["code_hash"], unique=True)

    op.create_table(
        "invitelockout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("locked_until", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "chat_id"),
    )


def downgrade() -> None:
    op.drop_table("invitelockout")
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=32), nullable=True))
    # "#<id>" is unique and never has the shape of a code: the old invites cannot be used.
    invite = sa.table("invite", sa.column("id", sa.Integer), sa.column("code", sa.String))
    op.get_bind().execute(
        sa.update(invite).values(code=sa.literal("#") + sa.cast(invite.c.id, sa.String))
    )
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_index("ix_invite_code_hash")
        batch_op.drop_column("code_hash")
        batch_op.alter_column("code", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index("ix_invite_code", ["code"], unique=True)
