"""Alembic environment: the engine comes from the caller (storage.db.upgrade), never a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables on SQLModel.metadata
from storage import inbox as _inbox  # noqa: F401 - the webhook inbox table, beside its code
from storage import oa_tokens as _oa_tokens  # noqa: F401 - the OA token table, beside its code

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("storage.db.upgrade() passes the engine; alembic CLI use is not set up")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move instead
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
