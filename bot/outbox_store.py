"""The outbox's bookkeeping in the database: which rows are due, claims, and outcomes.

Every method opens its own short transaction and commits at once (the worker calls them from
its one database thread): a claim must be visible before the HTTP call starts, and an outcome
right after it ends, so a crash leaves at most one message in doubt (see ``bot.outbox``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select

from bot.channels.base import OutgoingMessage, SendResult
from bot.config import Settings
from handlers.types import Button
from kernel.clock import Clock
from storage.models import ChannelIdentity, OutboxMessage

log = logging.getLogger("bot.outbox")

CLAIMED = "claimed: sending"  # last_error while a send is in flight
CLAIM_LEASE = timedelta(minutes=5)  # a claim older than this is taken to be a crashed send
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class PendingRow:
    """A detached snapshot of a pending row: what is needed to send it."""

    id: int
    channel: str
    chat_id: str
    attempts: int
    tried: bool
    next_attempt_at: datetime
    message: OutgoingMessage


def backoff_delay(settings: Settings, attempts: int) -> timedelta:
    """Wait before retry number ``attempts`` (1-based): base · 2^(n-1), capped."""
    seconds = settings.outbox.backoff_base_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, settings.outbox.backoff_max_seconds))


def _message(row: OutboxMessage) -> OutgoingMessage:
    buttons = tuple(
        tuple(Button(label=item["label"], payload=item["payload"]) for item in line)
        for line in (row.buttons or [])
    )
    return OutgoingMessage(
        chat_id=row.chat_id,
        text=row.text,
        buttons=buttons,
        file_path=row.file_path,
        file_name=row.file_name,
        reply_to_message_id=row.reply_to_message_id,
        edit_message_id=row.edit_message_id,
    )


def snapshot(row: OutboxMessage) -> PendingRow:
    if row.id is None:
        raise ValueError("outbox row without id")
    return PendingRow(
        id=row.id,
        channel=row.channel,
        chat_id=row.chat_id,
        attempts=row.attempts,
        tried=row.attempts > 0 or row.last_error is not None,
        next_attempt_at=row.next_attempt_at,
        message=_message(row),
    )


class OutboxStore:
    """The outbox rows of the channels one worker sends on."""

    def __init__(
        self, engine: Engine, channels: Sequence[str], settings: Settings, clock: Clock
    ) -> None:
        self.engine = engine
        self.channels = list(channels)
        self.settings = settings
        self.clock = clock

    def load_pending(self, after_id: int, now: datetime) -> list[PendingRow]:
        """Pending rows that are due or were tried (those hold their chat's order); a row
        only scheduled for later is not loaded, so thousands deferred over night cost
        nothing per drain."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending")
                .where(col(OutboxMessage.channel).in_(self.channels))
                .where(
                    or_(
                        col(OutboxMessage.next_attempt_at) <= now,
                        col(OutboxMessage.last_error).is_not(None),
                    )
                )
                .where(col(OutboxMessage.id) > after_id)
                .order_by(col(OutboxMessage.id))
                .limit(BATCH_SIZE)
            ).all()
            return [snapshot(row) for row in rows]

    def earliest_scheduled(self, now: datetime) -> datetime | None:
        with Session(self.engine) as session:
            return session.exec(
                select(func.min(OutboxMessage.next_attempt_at))
                .where(OutboxMessage.status == "pending")
                .where(col(OutboxMessage.channel).in_(self.channels))
                .where(col(OutboxMessage.next_attempt_at) > now)
            ).one()

    def claim(self, row: PendingRow, now: datetime) -> bool:
        with Session(self.engine) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id)
                .where(col(OutboxMessage.status) == "pending")
                .where(col(OutboxMessage.attempts) == row.attempts)
                .values(
                    attempts=row.attempts + 1,
                    last_error=CLAIMED,
                    next_attempt_at=now + CLAIM_LEASE,
                )
            )
            session.commit()
            return bool(getattr(result, "rowcount", 0) == 1)

    def recover_claims(self) -> int:
        """Rows claimed by a process that died mid-send: due again now (at-least-once)."""
        with Session(self.engine) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.status) == "pending")
                .where(col(OutboxMessage.last_error) == CLAIMED)
                .where(col(OutboxMessage.channel).in_(self.channels))
                .values(next_attempt_at=self.clock.now(), last_error="interrupted by a restart")
            )
            session.commit()
            return int(getattr(result, "rowcount", 0))

    def _update(self, row_id: int, **values: Any) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(OutboxMessage).where(col(OutboxMessage.id) == row_id).values(**values)
            )
            session.commit()

    def record_sent(self, row: PendingRow, result: SendResult) -> None:
        self._update(
            row.id,
            status="sent",
            sent_at=self.clock.now(),
            external_message_id=result.external_message_id,
            last_error=None,
        )

    def record_throttled(self, row: PendingRow, retry_after: float) -> datetime:
        when = self.clock.now() + timedelta(seconds=max(retry_after, 0.0))
        # The platform asked for a pause; that is not the message's fault: no attempt counted.
        self._update(
            row.id,
            attempts=row.attempts,
            next_attempt_at=when,
            last_error=f"throttled: retry after {retry_after:g}s",
        )
        return when

    def record_retry(self, row: PendingRow, error: str) -> datetime | None:
        attempts = row.attempts + 1
        if attempts >= self.settings.outbox.max_attempts:
            log.warning("outbox: message %d failed after %d attempts: %s", row.id, attempts, error)
            self._update(row.id, status="failed", last_error=error)
            return None  # given up: the chat's next rows may go
        when = self.clock.now() + backoff_delay(self.settings, attempts)
        self._update(row.id, next_attempt_at=when, last_error=error)
        return when

    def record_failed(self, row: PendingRow, error: str) -> None:
        log.warning("outbox: message %d failed: %s", row.id, error)
        self._update(row.id, status="failed", last_error=error)

    def record_unreachable(self, row: PendingRow, error: str) -> None:
        now = self.clock.now()
        reason = f"contact stopped: {error}"
        with Session(self.engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.channel) == row.channel)
                .where(col(OutboxMessage.chat_id) == row.chat_id)
                .where(col(OutboxMessage.status) == "pending")
                .values(status="unreachable", last_error=reason)
            )
            session.execute(
                update(ChannelIdentity)
                .where(col(ChannelIdentity.channel) == row.channel)
                .where(col(ChannelIdentity.chat_id) == row.chat_id)
                .where(col(ChannelIdentity.unreachable_at).is_(None))
                .values(unreachable_at=now)
            )
            session.commit()
        log.info("outbox: a %s chat blocked the bot; marked unreachable", row.channel)
