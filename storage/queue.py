"""Writing messages to send: outbox rows (and the reminder log keys that settle them).

The edges decide what to send to whom (``bot.pipeline``, ``bot.scheduler``); these functions
only write the rows, in the caller's transaction. Sending them is the outbox worker's part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col

from storage.models import OutboxMessage, ReminderLog


def add_outbox_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[OutboxMessage]:
    """One outbox row per mapping of column values (flushed, so they have ids)."""
    added = [OutboxMessage(**values) for values in rows]
    session.add_all(added)
    session.flush()
    return added


def insert_outbox_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """The same rows as one multi-row INSERT (a sweep may write 10,000 reminders); their ids,
    in the order given."""
    if not rows:
        return []
    inserted = session.connection().execute(
        insert(OutboxMessage).returning(col(OutboxMessage.id), sort_by_parameter_order=True),
        list(rows),
    )
    return [int(row_id or 0) for row_id in inserted.scalars()]


def insert_reminder_logs(session: Session, logs: Sequence[Mapping[str, Any]]) -> None:
    """Reminder log keys (unique: IntegrityError when another sweep wrote one first)."""
    if logs:
        session.connection().execute(insert(ReminderLog), list(logs))
