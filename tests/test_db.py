"""The engine and sessions: SQLite pragmas, transactions, aware datetimes, foreign keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import DateTime, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from storage.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, session_scope
from storage.models import Invite, Official, Unit
from storage.types import UTCDateTime
from storage.units import add_unit


def test_sqlite_pragmas(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        busy = connection.execute(text("PRAGMA busy_timeout")).scalar_one()
        assert busy == SQLITE_BUSY_TIMEOUT_MS


def test_make_engine_creates_the_folder(tmp_path: Path) -> None:
    db = make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'x.db'}")
    with db.connect() as connection:
        connection.execute(text("SELECT 1"))
    db.dispose()
    assert (tmp_path / "a" / "b" / "x.db").is_file()


def test_session_scope_commits(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_unit(session, "24", "Tỉnh Bắc Giang", "province", None)
    with Session(engine) as session:
        assert session.exec(select(Unit.code)).all() == ["24"]


def test_session_scope_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        add_unit(session, "24", "Tỉnh Bắc Giang", "province", None)
        raise RuntimeError("boom")
    with Session(engine) as session:
        assert session.exec(select(Unit)).all() == []


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Official(name="X", phone="+84912345678", unit_id=999))
    with pytest.raises(IntegrityError):
        session.flush()


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    plus7 = timezone(timedelta(hours=7))
    moment = datetime(2026, 11, 22, 9, 0, tzinfo=plus7)
    with session_scope(engine) as session:
        unit = add_unit(session, "24", "Tỉnh", "province", None)
        assert unit.id is not None
        official = Official(name="A", phone="+84912345678", unit_id=unit.id, created_at=moment)
        session.add(official)
        session.flush()
        assert official.id is not None
        session.add(Invite(code_hash="K7QM2XPA", official_id=official.id, expires_at=moment))
    with Session(engine) as session:
        invite = session.exec(select(Invite)).one()
    assert invite.expires_at == moment
    assert invite.expires_at.tzinfo == UTC
    assert invite.expires_at.hour == 2


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive"), session_scope(engine) as session:
        unit = add_unit(session, "24", "Tỉnh", "province", None)
        assert unit.id is not None
        session.add(
            Official(
                name="A", phone="+84912345678", unit_id=unit.id, created_at=datetime(2026, 1, 1)
            )
        )
        session.flush()


_MOMENTS = [
    datetime(2026, 12, 2, 21, 55, 45, 252523, tzinfo=UTC),
    datetime(2026, 12, 2, 21, 55, 45, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 11, 22, 9, 0, tzinfo=timezone(timedelta(hours=7))),
    datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
    datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("UTC")),  # a UTC that is not datetime.UTC
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),  # a four-digit year
]


@pytest.mark.parametrize("moment", _MOMENTS, ids=str)
def test_sqlite_datetimes_are_sqlalchemys_text_in_one_step(moment: datetime) -> None:
    """UTCDateTime's one-step SQLite conversion writes exactly what SQLAlchemy's own two steps
    (this type's, then SQLite DATETIME's) wrote, and reads it back the same way, so rows
    written before and after compare and sort alike."""
    dialect = sqlite.dialect()
    column = UTCDateTime()
    one_step = column.bind_processor(dialect)
    assert one_step is not None
    naive = column.process_bind_param(moment, dialect)
    sqlite_datetime = DateTime().dialect_impl(dialect)  # SQLite's DATETIME
    two_steps = sqlite_datetime.bind_processor(dialect)
    assert two_steps is not None
    written = one_step(moment)
    assert written == two_steps(naive)
    back = column.result_processor(dialect, None)
    assert back is not None
    sqlalchemy_read = sqlite_datetime.result_processor(dialect, None)
    assert sqlalchemy_read is not None
    assert back(written) == column.process_result_value(sqlalchemy_read(written), dialect)
    assert back(written) == moment
    assert back(written).tzinfo is UTC


def test_sqlite_datetimes_refuse_naive_and_read_hand_written_text() -> None:
    dialect = sqlite.dialect()
    column = UTCDateTime()
    bind, read = column.bind_processor(dialect), column.result_processor(dialect, None)
    assert bind is not None and read is not None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 1, 1))
    assert bind(None) is None and read(None) is None
    assert read("2026-12-02 21:55:45") == datetime(2026, 12, 2, 21, 55, 45, tzinfo=UTC)
    assert read("2026-12-02T04:55:45+07:00") == datetime(2026, 12, 1, 21, 55, 45, tzinfo=UTC)
