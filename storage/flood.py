"""Counts for the flood guard (``bot.flood``): messages per sender in a fixed window, and the
reports one official asked for in the last hour.

Kept in the database, not in the process: on PostgreSQL several worker processes apply
inbound messages side by side and must agree on one count, and a restart must not hand a
flooder a fresh allowance. Each count is written in the inbound's own transaction (the
caller commits), so an update is counted exactly once, like everything else it changes.

A window is fixed: it starts with the first message after the previous one ended and lasts
``window``; its count and its "told to slow down" flag go with it. The sender is stored as a
hash of (channel, user id), so the table names nobody.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, false, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.models import FloodWindow, ReportJob
from storage.prepared import Prepared, session_connection
from storage.types import UTCDateTime

MESSAGE, STRANGER = "message", "stranger"  # the kinds of window
FULL_BOT = "full_bot"  # a registration refused by a full bot: its overseers told once a day


@dataclass(frozen=True, slots=True)
class Count:
    """Where the sender stands in the current window, this message included."""

    count: int
    limit: int
    ends_at: datetime
    notify: bool  # over the limit, and not yet told in this window (now marked as told)

    @property
    def over(self) -> bool:
        return self.count > self.limit


def sender_key(channel: str, external_user_id: str) -> str:
    return hashlib.sha256(f"{channel}\x00{external_user_id}".encode()).hexdigest()


_TABLE = FloodWindow.__table__  # type: ignore[attr-defined]
_COUNT_STATEMENTS: dict[str, Prepared] = {}


def _count_statement(dialect: str) -> Prepared:
    """The upsert of ``count_message``, built once per dialect with bound parameters: built
    anew for every inbound message, its construction cost more than running it."""
    if dialect in _COUNT_STATEMENTS:
        return _COUNT_STATEMENTS[dialect]
    table = _TABLE
    ts = bindparam("now", type_=UTCDateTime())
    stale = or_(
        table.c.window_start <= bindparam("stale_before", type_=UTCDateTime()),
        table.c.window_start > ts,
    )
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(
            sender=bindparam("sender"),
            kind=bindparam("kind"),
            window_start=ts,
            count=1,
            notified=False,
        )
        .on_conflict_do_update(
            index_elements=[table.c.sender, table.c.kind],
            set_={
                "window_start": case((stale, ts), else_=table.c.window_start),
                "count": case((stale, 1), else_=table.c["count"] + 1),
                "notified": case((stale, false()), else_=table.c.notified),
            },
        )
        .returning(table.c.id, table.c.window_start, table.c["count"], table.c.notified)
    )
    prepared = _COUNT_STATEMENTS[dialect] = Prepared(statement)
    return prepared


def count_message(
    session: Session,
    channel: str,
    external_user_id: str,
    kind: str,
    now: datetime,
    *,
    limit: int,
    window: timedelta,
) -> Count:
    """Count one message from the sender in its ``kind`` window; the caller commits.

    One statement, ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35 and
    PostgreSQL): the first message opens the window, a later one counts in it or, once it
    has passed (or the clock moved back), opens the next. Two processes counting the same
    sender at once queue on the row's conflict instead of both reading the old count; this
    runs for every inbound message, so it costs one round trip, not a read and a write."""
    statement = _count_statement(session.get_bind().dialect.name)
    params = {
        "sender": sender_key(channel, external_user_id),
        "kind": kind,
        "now": now,
        "stale_before": now - window,
    }
    row_id, start, count, notified = statement.one(session_connection(session), params)
    notify = count > limit and not notified
    if notify:  # once per window: "please slow down"
        session.execute(update(_TABLE).where(_TABLE.c.id == row_id).values(notified=True))
    return Count(count, limit, start + window, notify)


def reports_since(session: Session, official_id: int, since: datetime) -> list[datetime]:
    """When the official's report jobs since ``since`` were asked for, oldest first."""
    rows = session.exec(
        select(ReportJob.created_at)
        .where(col(ReportJob.official_id) == official_id)
        .where(col(ReportJob.created_at) >= since)
        .order_by(col(ReportJob.created_at))
    ).all()
    return list(rows)


def prune_windows(session: Session, before: datetime) -> int:
    """Forget windows that started before ``before`` (long over); the caller commits."""
    result = session.execute(delete(FloodWindow).where(col(FloodWindow.window_start) < before))
    return int(getattr(result, "rowcount", 0))
