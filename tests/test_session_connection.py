"""``storage.prepared.session_connection``: the session's connection, remembered only while
the transaction it belongs to is the active one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Session

from storage.db import make_engine
from storage.prepared import session_connection


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    yield engine
    engine.dispose()


def test_the_same_connection_within_a_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        assert not session.in_transaction()
        first = session_connection(session)  # begins the transaction, as connection() does
        assert session.in_transaction()
        assert session_connection(session) is first is session.connection()


def test_a_commit_or_a_rollback_asks_the_session_again(engine: Engine) -> None:
    with Session(engine) as session:
        session_connection(session).execute(text("INSERT INTO t VALUES (1)"))
        before = session.get_transaction()
        session.commit()
        assert session.get_transaction() is None
        again = session_connection(session)  # a new transaction, begun as connection() would
        assert session.get_transaction() is not before and session.in_transaction()
        again.execute(text("INSERT INTO t VALUES (2)"))
        session.rollback()
        session_connection(session).execute(text("INSERT INTO t VALUES (3)"))
        session.commit()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id FROM t ORDER BY id")).scalars().all()
    assert rows == [1, 3]


def test_a_nested_transaction_and_its_end(engine: Engine) -> None:
    with Session(engine) as session:
        outer = session_connection(session)
        savepoint = session.begin_nested()
        assert session_connection(session) is outer  # one connection for the whole tree
        savepoint.rollback()
        assert session_connection(session) is outer
        session.commit()


class _Base(DeclarativeBase):  # its own metadata: the models' stays as the schema has it
    pass


class _Row(_Base):
    __tablename__ = "t"
    id: Mapped[int] = mapped_column(primary_key=True)


def test_a_deactivated_transaction_raises_as_connection_does(engine: Engine) -> None:
    with Session(engine) as session:
        session_connection(session).execute(text("INSERT INTO t VALUES (9)"))
        session.add(_Row(id=9))
        with pytest.raises(IntegrityError):
            session.flush()
        with pytest.raises(InvalidRequestError):
            session.connection()
        with pytest.raises(InvalidRequestError):
            session_connection(session)
        session.rollback()
        session_connection(session).execute(text("INSERT INTO t VALUES (10)"))
        session.commit()
