"""``storage.bind``: a unit of work runs the same on an engine and on a held connection; on
the held one each unit ends its own transaction, and one left open is rolled back, never
committed into the next."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from storage import bind
from storage.bind import Bind
from storage.db import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bind.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (v TEXT)"))
    yield engine
    engine.dispose()


@pytest.fixture(params=["engine", "held"])
def target(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Bind]:
    if request.param == "engine":
        yield engine
        return
    with engine.connect() as held:
        yield held


def _values(engine: Engine) -> list[str]:
    """What another connection sees: only what was committed."""
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT v FROM t ORDER BY v")).scalars())


def test_a_session_commits_what_it_commits_and_nothing_else(engine: Engine, target: Bind) -> None:
    with bind.session(target) as session:
        session.execute(text("INSERT INTO t VALUES ('kept')"))
        session.commit()
    with bind.session(target) as session:
        session.execute(text("INSERT INTO t VALUES ('dropped')"))  # closed without a commit
    assert _values(engine) == ["kept"]
    if isinstance(target, Connection):
        assert not target.in_transaction()  # the session ended the transaction it began


def test_a_session_rolled_back_keeps_nothing_and_the_next_one_starts_clean(
    engine: Engine, target: Bind
) -> None:
    with bind.session(target) as session:
        session.execute(text("INSERT INTO t VALUES ('a')"))
        session.rollback()
        session.execute(text("INSERT INTO t VALUES ('b')"))
        session.commit()
    assert _values(engine) == ["b"]


def test_begin_commits_at_the_end_and_rolls_back_on_an_error(engine: Engine, target: Bind) -> None:
    with bind.begin(target) as connection:
        connection.execute(text("INSERT INTO t VALUES ('one')"))
    with pytest.raises(LookupError), bind.begin(target) as connection:
        connection.execute(text("INSERT INTO t VALUES ('two')"))
        raise LookupError("boom")
    assert _values(engine) == ["one"]
    with bind.begin(target) as connection:  # usable again after the error
        connection.execute(text("INSERT INTO t VALUES ('three')"))
    assert _values(engine) == ["one", "three"]


def test_connect_reads_and_leaves_no_transaction_open(engine: Engine, target: Bind) -> None:
    with bind.begin(target) as connection:
        connection.execute(text("INSERT INTO t VALUES ('x')"))
    with bind.connect(target) as connection:
        assert list(connection.execute(text("SELECT v FROM t")).scalars()) == ["x"]
    if isinstance(target, Connection):
        assert not target.in_transaction()
    with bind.begin(target) as connection:  # a write right after a read on the same one
        connection.execute(text("INSERT INTO t VALUES ('y')"))
    assert _values(engine) == ["x", "y"]


def test_a_transaction_left_open_on_the_held_connection_is_rolled_back_not_committed(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with engine.connect() as held:
        held.execute(text("INSERT INTO t VALUES ('half')"))  # a bug: begun, never ended
        with (
            caplog.at_level(logging.WARNING, logger="storage.bind"),
            bind.session(held) as session,
        ):
            session.execute(text("INSERT INTO t VALUES ('whole')"))
            session.commit()
        assert "left open" in caplog.text
    assert _values(engine) == ["whole"]


def test_a_read_left_open_before_begin_does_not_stop_the_write(engine: Engine) -> None:
    with engine.connect() as held:
        held.execute(text("SELECT count(*) FROM t")).scalar_one()  # autobegun, left open
        with bind.begin(held) as connection:
            connection.execute(text("INSERT INTO t VALUES ('w')"))
    assert _values(engine) == ["w"]
