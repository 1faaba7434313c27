"""The outbox worker's writes: claim a row, record its outcome, recover a dead worker's
claims, mark a chat unreachable. ``bot.outbox_store`` reads the queue and calls these; each
takes the caller's session and leaves the commit to it, so an outcome and what goes with it
(the chat's numbered menu) are one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from storage.models import ChannelIdentity, OutboxMessage, OutboxStatus


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def claim_row(
    session: Session, row_id: int, attempts: int, now: datetime, lease: timedelta
) -> bool:
    """Take a pending row for sending, unless another worker (or an earlier try) changed it
    since it was read: the attempt count is the row's version."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(col(OutboxMessage.attempts) == attempts)
        .values(attempts=attempts + 1, claimed_at=now, next_attempt_at=now + lease)
    )
    return _rowcount(result) == 1


def release_claims(session: Session, channels: Sequence[str], now: datetime) -> int:
    """Rows claimed by a process that died mid-send become due again (at-least-once)."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(col(OutboxMessage.claimed_at).is_not(None))
        .where(col(OutboxMessage.channel).in_(list(channels)))
        .values(next_attempt_at=now, claimed_at=None, last_error="interrupted by a restart")
    )
    return _rowcount(result)


def record_outcome(session: Session, row_id: int, **values: Any) -> None:
    """A try's outcome (next attempt, error, failed): the claim ends with it."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(claimed_at=None, **values)
    )


def mark_sent(session: Session, row_id: int, now: datetime, external_id: str | None) -> None:
    record_outcome(
        session,
        row_id,
        status=OutboxStatus.SENT,
        sent_at=now,
        external_message_id=external_id,
        last_error=None,
    )


def mark_chat_unreachable(
    session: Session, channel: str, chat_id: str, now: datetime, reason: str
) -> None:
    """The chat blocked the bot: its pending rows stop, its identity is marked unreachable."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.channel) == channel)
        .where(col(OutboxMessage.chat_id) == chat_id)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.UNREACHABLE, last_error=reason, claimed_at=None)
    )
    session.execute(
        update(ChannelIdentity)
        .where(col(ChannelIdentity.channel) == channel)
        .where(col(ChannelIdentity.chat_id) == chat_id)
        .where(col(ChannelIdentity.unreachable_at).is_(None))
        .values(unreachable_at=now)
    )
