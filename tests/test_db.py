"""The engine and sessions: SQLite pragmas, transactions, aware datetimes, foreign keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from storage.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, session_scope
from storage.models import Invite, Official, Unit
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
