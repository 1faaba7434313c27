"""What a unit of work runs on: an engine (a connection from its pool each time) or one
connection held for good (``Bind``).

Why hold one: the database process (``bot.dbprocess``) runs its jobs one after another on
one SQLite file, so a pool buys it nothing, and checking a connection out and back in cost
about a third of a short transaction's Python (the pool's bookkeeping, the connection's
``__init__``, the reset on return). A held connection is idle between units of work: each
one begins its own transaction and ends it, and one left open by a bug is rolled back,
never committed, before the next begins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

log = logging.getLogger("storage.bind")

Bind = Engine | Connection


def session(bind: Bind, *, expire_on_commit: bool = True) -> Session:
    """A session on ``bind``: on an engine, as ``Session(engine)``; on a held connection,
    a session that begins the connection's transaction and ends it (commit, rollback,
    close) as it would its own."""
    if isinstance(bind, Engine):
        return Session(bind, expire_on_commit=expire_on_commit)
    _idle(bind)
    return Session(bind, expire_on_commit=expire_on_commit, join_transaction_mode="control_fully")


@contextmanager
def begin(bind: Bind) -> Iterator[Connection]:
    """A Core transaction, committed at the end of the block (rolled back on an error)."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            yield connection
        return
    _idle(bind)
    with bind.begin():
        yield bind


@contextmanager
def connect(bind: Bind) -> Iterator[Connection]:
    """A connection to read on; what the reads began is rolled back at the end."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            yield connection
        return
    _idle(bind)
    try:
        yield bind
    finally:
        if bind.in_transaction():
            bind.rollback()


def _idle(connection: Connection) -> None:
    """A held connection starts each unit of work outside a transaction; one left open
    (a bug: every unit ends its own) is rolled back, so nobody's half is committed."""
    if connection.in_transaction():
        log.warning("a transaction was left open on the held connection; rolled back")
        connection.rollback()
