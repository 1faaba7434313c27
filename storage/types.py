"""Column types shared by the tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, String, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_Processor = Callable[[Any], Any]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    SQLite has no time zones; storing naive UTC and re-attaching UTC on the way out means the
    rest of the code only ever sees aware datetimes and cannot mix local and UTC by mistake.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a hand-written query
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # On SQLite each conversion is one function instead of this type's step and then
    # SQLAlchemy's own DATETIME step (an aware datetime → naive → text, and back): every
    # statement of the hot path binds several datetimes, and the two steps cost about twice
    # the one. The text is SQLAlchemy's SQLite DATETIME format, "2026-12-02 21:55:45.252523"
    # (tests/test_db.py checks the two agree).
    def bind_processor(self, dialect: Dialect) -> _Processor | None:
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: Any) -> _Processor | None:
        if dialect.name == "sqlite":
            return _sqlite_moment
        return super().result_processor(dialect, coltype)


def _sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_moment(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class EnumText(TypeDecorator[StrEnum]):
    """A ``StrEnum`` stored as its plain string value in a VARCHAR(16): the same bytes as
    before the enums, so no data migration, and PostgreSQL and SQLite store it alike (a
    database ENUM type would need a migration for every new value). A value outside the
    enumeration is refused before it reaches the database."""

    impl = String
    cache_ok = True
    enum: type[StrEnum]

    def __init__(self) -> None:
        super().__init__(length=16)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(self.enum(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def read_plain(column: Any) -> Any:
    """``column`` under its own name, an ``EnumText`` one read as its plain string: equal to
    the enum and hashed alike, without an enum made of each row (a roll-up reads hundreds)."""
    if isinstance(column.type, EnumText):
        return type_coerce(column, String).label(column.key)
    return column
