"""``storage.prepared``: a statement run on the SQLite cursor gives what SQLAlchemy's own
execution gives (types both ways, errors, transactions), and SQLAlchemy's path is taken
wherever it does more than run the cursor (listeners, other databases, expanding IN)."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, NamedTuple

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Date,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import (
    IntegrityError,
    InvalidRequestError,
    NoResultFound,
    OperationalError,
    StatementError,
)

from storage.db import make_engine
from storage.listbind import any_of
from storage.prepared import Prepared
from storage.types import UTCDateTime
from tests.pgdb import SERVER_URL, fresh_database


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


metadata = MetaData()
ITEM = Table(
    "item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True, nullable=False),
    Column("at", UTCDateTime),
    Column("day", Date),
    Column("data", JSON),
    Column("colour", Enum(Colour)),
    Column("size", Integer, default=7),  # a Python-side default: SQLAlchemy's path
)
C = ITEM.c
SELECT = Prepared(
    select(C.id, C.name, C.at, C.day, C.data, C.colour.label("tint")).where(
        C.name == bindparam("name")
    )
)
INSERT = Prepared(insert(ITEM).returning(C.id), keyed=True)
RENAME = Prepared(update(ITEM).where(C.id == bindparam("row_id")).values(name=bindparam("new")))
SINCE = Prepared(select(C.name).where(C.at >= bindparam("since")).order_by(C.name))
VIETNAM = timezone(timedelta(hours=7))
ROW = {
    "name": "a",
    "at": datetime(2026, 6, 22, 9, 0, tzinfo=VIETNAM),
    "day": date(2026, 6, 22),
    "data": {"k": ["v", 1]},
    "colour": Colour.BLUE,
    "size": 3,
}


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection


def through_sqlalchemy(engine: Engine) -> list[str]:
    """A listener on the cursor events: every statement then goes SQLAlchemy's way."""
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def refuse(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("went through Connection.execute")


@pytest.fixture
def no_sqlalchemy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails any statement that goes SQLAlchemy's way: what remains ran on the cursor."""
    monkeypatch.setattr(Connection, "execute", refuse)


def written_and_read(engine: Engine) -> tuple[int, Any, int, Any]:
    with engine.begin() as connection:
        row_id = INSERT.scalar_one(connection, ROW)
        renamed = RENAME.run(connection, {"row_id": row_id, "new": "b"})
        found = SELECT.one(connection, {"name": "b"})
        missing = SELECT.first(connection, {"name": "a"})
    return row_id, found, renamed, missing


def test_the_cursor_gives_what_sqlalchemy_gives_both_ways(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(Connection, "execute", refuse)
        direct = written_and_read(engine)
    with engine.begin() as connection:
        connection.execute(delete(ITEM))
    seen = through_sqlalchemy(engine)
    slow = written_and_read(engine)
    assert len(seen) == 4  # insert, update, two reads: each seen by the listener
    assert direct[1:] == slow[1:]
    row = direct[1]
    assert row.at == datetime(2026, 6, 22, 2, 0, tzinfo=UTC)  # aware UTC, as the type gives
    assert (row.day, row.data, row.tint) == (date(2026, 6, 22), {"k": ["v", 1]}, Colour.BLUE)
    assert direct[2] == 1 and direct[3] is None


def test_no_listener_runs_on_the_cursor(engine: Engine, no_sqlalchemy: None) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(  # a row with every column, without the INSERT's default
            "INSERT INTO item (name, at, size) VALUES ('x', '2026-06-22 02:00:00.000000', 1)"
        )
        found = SINCE.rows(connection, {"since": datetime(2026, 6, 22, 8, tzinfo=VIETNAM)})
        assert [row.name for row in found] == ["x"]
        assert RENAME.run(connection, {"row_id": 99, "new": "y"}) == 0


class Dated(NamedTuple):
    name: str
    day: date | None


DATED = Prepared(select(C.name, C.day).order_by(C.name), row=Dated)


def test_rows_are_built_as_the_given_named_tuple_on_both_paths(engine: Engine) -> None:
    with engine.begin() as connection:
        INSERT.run(connection, {"name": "a", "day": date(2026, 6, 22), "size": 0})
        INSERT.run(connection, {"name": "b", "size": 0})
        direct = DATED.rows(connection)
    through_sqlalchemy(engine)
    with engine.connect() as connection:
        slow = DATED.rows(connection)
    expected = [Dated("a", date(2026, 6, 22)), Dated("b", None)]  # the Date column's type too
    assert direct == slow == expected
    assert {type(row) for row in [*direct, *slow]} == {Dated}


def test_a_row_type_of_another_width_is_refused() -> None:
    with pytest.raises(ValueError, match="Dated has 2 fields, not 3"):
        Prepared(select(C.name, C.day, C.size), row=Dated)


def test_a_keyed_insert_is_compiled_per_set_of_names(connection: Connection) -> None:
    first = INSERT.scalar_one(connection, {"name": "a", "size": 1})
    second = INSERT.scalar_one(connection, {"name": "b", "colour": Colour.RED, "size": 2})
    rows = connection.execute(select(C.id, C.colour, C.size).order_by(C.id)).all()
    assert [tuple(row) for row in rows] == [(first, None, 1), (second, Colour.RED, 2)]


def test_a_python_side_default_is_left_to_sqlalchemy(connection: Connection) -> None:
    row_id = INSERT.scalar_one(connection, {"name": "a"})  # size: the column's default
    assert connection.execute(select(C.size).where(C.id == row_id)).scalar_one() == 7


def test_an_expanding_in_goes_sqlalchemys_way(connection: Connection) -> None:
    for name in "abc":
        INSERT.run(connection, {"name": name, "size": 0})
    among = Prepared(select(C.name).where(C.name.in_(bindparam("names", expanding=True))))
    assert [row.name for row in among.rows(connection, {"names": ["a", "c"]})] == ["a", "c"]


def test_a_parameter_the_text_repeats_is_bound_at_each_place(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roll-up names one moment in many places: it is converted once and sent to each
    placeholder, in order, beside parameters used once."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO item (name, at, size) VALUES "
            "('early', '2026-06-22 01:00:00.000000', 1), ('late', '2026-06-22 03:00:00.000000', 2)"
        )
    moment = bindparam("moment", type_=UTCDateTime)
    around = Prepared(
        select(C.name, (C.at < moment).label("before"))
        .where(C.size >= bindparam("size"), (C.at < moment) | (C.at > moment))
        .order_by(C.name)
    )
    params = {"moment": datetime(2026, 6, 22, 9, 0, tzinfo=VIETNAM), "size": 1}
    with engine.connect() as connection, monkeypatch.context() as patch:
        patch.setattr(Connection, "execute", refuse)
        direct = around.rows(connection, params)
    through_sqlalchemy(engine)
    with engine.connect() as connection:
        slow = around.rows(connection, params)
    assert [tuple(row) for row in direct] == [("early", 1), ("late", 0)]
    assert direct == slow


def test_a_list_bound_with_any_of_runs_on_the_cursor(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in "abc":
        INSERT.run(connection, {"name": name, "size": 0})
    among = Prepared(select(C.name).where(any_of(C.name, "names")).order_by(C.name))
    with monkeypatch.context() as patch:
        patch.setattr(Connection, "execute", refuse)
        assert [row.name for row in among.rows(connection, {"names": ["c", "a", "z"]})] == [
            "a",
            "c",
        ]
        assert among.rows(connection, {"names": []}) == []
    # SQLAlchemy's own path (and PostgreSQL's expanding IN) gives the same rows.
    found = connection.execute(among.statement, {"names": ["c", "a"]}).all()
    assert [row.name for row in found] == ["a", "c"]


def test_errors_are_sqlalchemys_and_change_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        INSERT.run(connection, {"name": "a", "size": 0})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        INSERT.run(connection, {"name": "z", "size": 0})
        INSERT.run(connection, {"name": "a", "size": 0})  # unique: the block is rolled back
    with engine.connect() as connection:
        assert connection.execute(select(C.name)).scalars().all() == ["a"]
        with pytest.raises(StatementError, match="naive"):
            SINCE.rows(connection, {"since": datetime(2026, 1, 1)})
        with pytest.raises(InvalidRequestError, match="since"):
            SINCE.rows(connection, {})
        with pytest.raises(NoResultFound):
            SELECT.one(connection, {"name": "nobody"})
        other = Table("missing", MetaData(), Column("id", Integer, primary_key=True))
        with pytest.raises(OperationalError, match="no such table"):
            Prepared(select(other.c.id)).rows(connection)


def test_writes_on_the_cursor_are_in_the_connections_transaction(engine: Engine) -> None:
    with engine.connect() as connection:
        transaction = connection.begin()
        INSERT.run(connection, {"name": "a", "size": 0})
        transaction.rollback()
        assert connection.execute(select(C.name)).all() == []


@pytest.mark.postgres
@pytest.mark.skipif(not SERVER_URL, reason="set PAPI_BOT_TEST_POSTGRES_URL")
def test_postgresql_takes_sqlalchemys_path_with_the_same_results() -> None:
    with fresh_database() as url:
        engine = make_engine(url)
        try:
            metadata.create_all(engine)
            calls: list[object] = []
            real = Connection.execute

            def counted(self: Connection, *args: Any, **kwargs: Any) -> Any:
                calls.append(args[0])
                return real(self, *args, **kwargs)

            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(Connection, "execute", counted)
                _row_id, found, renamed, missing = written_and_read(engine)
            assert len(calls) == 4  # no cursor of its own: pool invalidation, events as ever
            assert (found.name, found.at, found.day) == ("b", ROW["at"], ROW["day"])
            assert (found.data, found.tint, renamed, missing) == (ROW["data"], Colour.BLUE, 1, None)
            among = Prepared(select(C.name).where(any_of(C.name, "names")))  # an expanding IN
            with engine.connect() as connection:
                assert [r.name for r in among.rows(connection, {"names": ["b", "z"]})] == ["b"]
        finally:
            engine.dispose()


def test_run_many_writes_each_row_on_the_cursor(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.begin() as connection:
        ids = [INSERT.scalar_one(connection, {"name": name, "size": 0}) for name in "ab"]
    rows = [{"row_id": ids[0], "new": "x"}, {"row_id": ids[1], "new": "y"}]
    with monkeypatch.context() as patch, engine.begin() as connection:
        patch.setattr(Connection, "execute", refuse)
        RENAME.run_many(connection, rows)
    with pytest.raises(IntegrityError), engine.begin() as connection:  # both "z": unique
        RENAME.run_many(connection, [{"row_id": i, "new": "z"} for i in ids])
    with engine.connect() as connection:
        assert connection.execute(select(C.name).order_by(C.id)).scalars().all() == ["x", "y"]


def test_an_echoing_engine_logs_every_statement(caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine("sqlite://", echo=True)
    metadata.create_all(engine)
    with caplog.at_level("INFO", logger="sqlalchemy.engine"), engine.begin() as connection:
        caplog.clear()
        INSERT.run(connection, {"name": "a", "size": 0})
    assert any("INSERT INTO item" in record.getMessage() for record in caplog.records)
    engine.dispose()


def test_constants_the_statement_binds_itself_are_sent(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in "ab":
        INSERT.run(connection, {"name": name, "size": 0})
    paint = Prepared(update(ITEM).where(C.name == bindparam("name")).values(colour=Colour.RED))
    first = Prepared(select(C.name).order_by(C.name.desc()).limit(1))
    with monkeypatch.context() as patch:
        patch.setattr(Connection, "execute", refuse)
        assert paint.run(connection, {"name": "b"}) == 1
        assert [row.name for row in first.rows(connection)] == ["b"]
    painted = connection.execute(select(C.name).where(C.colour == Colour.RED)).scalars()
    assert painted.all() == ["b"]
