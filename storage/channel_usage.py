"""How many messages a channel sent since a moment: the monthly quota count (Zalo Bot's free
plan allows about 3,000 a month). The outbox rows are the record, so nothing extra is kept in
step. The outbox splits a long text at send time, so one row may have been several platform
messages: the count is a floor, which is why the digest warns early (80 %)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import OutboxMessage


def sent_since(session: Session, channel: str, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.status == "sent")
        .where(col(OutboxMessage.sent_at) >= since)
    )
    return int(session.exec(query).one())
