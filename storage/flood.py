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

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import FloodWindow, ReportJob

MESSAGE, STRANGER = "message", "stranger"  # the kinds of window


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


def _window(session: Session, sender: str, kind: str) -> FloodWindow | None:
    # FOR UPDATE: two processes counting the same sender at once queue on the row instead of
    # both reading the old count (SQLite ignores it; its write lock is already held).
    return session.exec(
        select(FloodWindow)
        .where(FloodWindow.sender == sender)
        .where(FloodWindow.kind == kind)
        .with_for_update()
    ).first()


def _new_window(session: Session, sender: str, kind: str, now: datetime) -> FloodWindow:
    """Insert the sender's first window; if another process inserted it meanwhile, theirs."""
    row = FloodWindow(sender=sender, kind=kind, window_start=now, count=0)
    savepoint = session.begin_nested()
    try:
        session.add(row)
        session.flush()
        savepoint.commit()
        return row
    except IntegrityError:
        savepoint.rollback()
    found = _window(session, sender, kind)
    if found is None:  # pragma: no cover - the unique row that failed the insert is there
        raise RuntimeError("flood window vanished")
    return found


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
    """Count one message from the sender in its ``kind`` window; the caller commits."""
    sender = sender_key(channel, external_user_id)
    row = _window(session, sender, kind) or _new_window(session, sender, kind, now)
    if now >= row.window_start + window or now < row.window_start:  # passed (or clock moved)
        row.window_start, row.count, row.notified = now, 0, False
    row.count += 1
    notify = row.count > limit and not row.notified
    if notify:
        row.notified = True
    session.add(row)
    session.flush()
    return Count(row.count, limit, row.window_start + window, notify)


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
