"""Data retention: processed-update keys and sent outbox rows older than ``[retention] days``
are deleted so those tables do not grow without bound. Evidence files, progress updates,
reminder logs (the exactly-once keys) and rows not delivered are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage.models import OutboxMessage, OutboxStatus, ProcessedUpdate, ReminderLog


@dataclass(frozen=True)
class Pruned:
    processed_updates: int
    outbox_rows: int


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def prune(session: Session, before: datetime) -> Pruned:
    """Delete what is older than ``before``; the caller commits."""
    old_sent = (
        select(OutboxMessage.id)
        .where(col(OutboxMessage.status) == OutboxStatus.SENT)
        .where(col(OutboxMessage.sent_at) < before)
    )
    # The reminder log stays (it is what makes a reminder exactly-once); it only forgets
    # which outbox row carried it.
    session.execute(
        update(ReminderLog).where(col(ReminderLog.outbox_id).in_(old_sent)).values(outbox_id=None)
    )
    outbox = session.execute(
        delete(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.SENT)
        .where(col(OutboxMessage.sent_at) < before)
    )
    updates = session.execute(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < before)
    )
    return Pruned(processed_updates=_rowcount(updates), outbox_rows=_rowcount(outbox))
