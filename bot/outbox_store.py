"""The outbox's bookkeeping in the database: which rows are due, claims, and outcomes.

Every method opens its own short transaction and commits at once (the worker calls them from
its one database thread): a claim must be visible before the HTTP call starts, and an outcome
right after it ends, so a crash leaves at most one message in doubt (see ``bot.outbox``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, text, tuple_
from sqlmodel import col, func, or_, select

from bot.channels import menu
from bot.channels.base import OutgoingMessage, SendResult
from bot.config import Settings
from bot.dbprocess import Recipe
from bot.routing import Routing
from handlers.types import Button
from kernel.clock import Clock, SystemClock
from storage import bind
from storage.bind import Bind
from storage.models import OUTBOX_PENDING_SQL, OutboxMessage, OutboxStatus
from storage.outbox_rows import (
    Claim,
    claim_rows,
    mark_chat_unreachable,
    mark_identity_unreachable,
    mark_sent_rows,
    pending_for_officials,
    readdress_rows,
    record_outcome,
    release_claims,
    release_rows,
)
from storage.queue import QueuedRow

log = logging.getLogger("bot.outbox")

BATCH_SIZE = 500
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]


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
    priority: int = 0
    claimed: bool = False  # claimed for this worker by its writer (``storage.queue``)
    awaited: bool = False  # the same, read from the table before its hand-over was queued


def backoff_delay(settings: Settings, attempts: int) -> timedelta:
    """Wait before retry number ``attempts`` (1-based): base · 2^(n-1), capped."""
    seconds = settings.outbox.backoff_base_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, settings.outbox.backoff_max_seconds))


def _message(row: Any) -> OutgoingMessage:
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


def snapshot(row: Any, worker_id: str | None = None) -> PendingRow:
    """``row``: an ``OutboxMessage`` or a Core row of its table, read by the worker
    ``worker_id``. A row holding that worker's claim is an answer claimed for it by its
    writer (``storage.queue.first_in_chats``) and read before its hand-over was queued
    (``awaited``): the worker's to send on that claim (a claimed row is due), with the
    attempts before it."""
    if row.id is None:
        raise ValueError("outbox row without id")
    if worker_id is not None and row.claimed_at is not None and row.claimed_by == worker_id:
        before = row.attempts - 1
        tried = before > 0 or row.last_error is not None
        return replace(_pending(row, tried, claimed=True, awaited=True), attempts=before)
    tried = row.attempts > 0 or row.last_error is not None or row.claimed_at is not None
    return _pending(row, tried)


def fresh(row: QueuedRow) -> PendingRow:
    """A row as its writer handed it over, just written (never tried; maybe claimed for
    this worker in the same transaction)."""
    return _pending(row, row.attempts > 0, claimed=row.claimed)


def _pending(row: Any, tried: bool, *, claimed: bool = False, awaited: bool = False) -> PendingRow:
    return PendingRow(
        id=row.id,
        channel=row.channel,
        chat_id=row.chat_id,
        attempts=row.attempts,
        tried=tried,
        next_attempt_at=row.next_attempt_at,
        message=_message(row),
        priority=row.priority,
        claimed=claimed,
        awaited=awaited,
    )


class OutboxStore:
    """The outbox rows of the channels one worker sends on."""

    def __init__(
        self,
        engine: Bind,
        channels: Sequence[str],
        settings: Settings,
        clock: Clock,
        menu_channels: Sequence[str] = (),
        routing: Routing | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.channels = list(channels)
        self.menu_channels = frozenset(menu_channels)  # numbered menus (no buttons, or a fallback)
        self.settings = settings
        self.clock = clock
        # Where a row goes when its chat cannot be reached: every declared channel counts,
        # not only the ones this worker sends on.
        self.routing = routing or Routing.from_settings(settings)
        # A claim older than this is taken to be a crashed send ([outbox] claim_lease_seconds).
        self.lease = timedelta(seconds=settings.outbox.claim_lease_seconds)
        # host:pid:random names this worker's leases (a pid alone repeats across machines);
        # its copy in the database process keeps it: the answers' claims are taken there.
        self.worker_id = worker_id or (
            f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        )
        # The statements of every drain, built once (their construction cost more than them).
        self._next_batch = self._pending().limit(BATCH_SIZE)
        self._urgent = (
            self._pending().where(_OUTBOX.c.priority >= bindparam("priority")).limit(BATCH_SIZE)
        )

    def recipe(self) -> Recipe:
        """This store in the database process (``bot.dbprocess``): the same channels and
        settings on that process's engine, with the system clock (the only one it has)."""
        menus = sorted(self.menu_channels)
        args = (self.channels, self.settings, menus, self.routing, self.worker_id)
        return Recipe(rebuild_store, args)

    def _pending(self) -> Any:
        """Pending rows of these channels that are due at ``:now`` or were tried (those
        hold their chat's order); a row only scheduled for later is left out, so thousands
        deferred over night cost nothing per drain. Core rows, not ORM objects: every drain
        reads them, and they are only copied into ``PendingRow``s."""
        return (
            select(*_OUTBOX.c)
            .where(text(OUTBOX_PENDING_SQL))  # the partial indexes of the queue
            .where(_OUTBOX.c.channel.in_(self.channels))
            .where(
                or_(
                    _OUTBOX.c.next_attempt_at <= bindparam("now"),
                    _OUTBOX.c.last_error.is_not(None),
                    _OUTBOX.c.claimed_at.is_not(None),
                )
            )
            .where(_OUTBOX.c.id > bindparam("after"))
            .order_by(_OUTBOX.c.id)
        )

    def load_pending(self, after_id: int, now: datetime) -> list[PendingRow]:
        """The next batch of pending rows after ``after_id``, in id order."""
        with bind.connect(self.engine) as connection:
            rows = connection.execute(self._next_batch, {"after": after_id, "now": now})
            return [snapshot(row, self.worker_id) for row in rows]

    def load_urgent(self, after_id: int, now: datetime, priority: int) -> list[PendingRow]:
        """Rows after ``after_id`` of the chats that have a due row of at least ``priority``
        (a reply), with every earlier pending row of those chats, in id order: the reply can
        go at once without overtaking what its chat was sent before."""
        params = {"after": after_id, "now": now, "priority": priority}
        with bind.connect(self.engine) as connection:
            urgent = connection.execute(self._urgent, params).all()
            if not urgent:
                return []
            last = max(row.id for row in urgent)
            chats = sorted({(row.channel, row.chat_id) for row in urgent})
            # One query for all those chats (a wake-up with 20 replies was 21 queries).
            rows = connection.execute(
                self._pending()
                .where(tuple_(_OUTBOX.c.channel, _OUTBOX.c.chat_id).in_(chats))
                .where(_OUTBOX.c.id <= last),
                params,
            )
            return [snapshot(row, self.worker_id) for row in rows]

    def earliest_scheduled(self, now: datetime) -> datetime | None:
        with bind.session(self.engine) as session:
            return session.exec(
                select(func.min(OutboxMessage.next_attempt_at))
                .where(text(OUTBOX_PENDING_SQL))  # ix_outbox_due
                .where(col(OutboxMessage.channel).in_(self.channels))
                .where(col(OutboxMessage.next_attempt_at) > now)
            ).one()

    def claim_many(self, rows: list[PendingRow]) -> list[bool]:
        """Claim ``rows`` in one transaction (``claim_rows``); whether each was taken."""
        claims = [Claim(row.id, row.attempts, row.channel, row.chat_id) for row in rows]
        with bind.begin(self.engine) as connection:  # Core only: no session to keep
            taken = claim_rows(connection, claims, self.clock.now(), self.lease, self.worker_id)
        return [row.id in taken for row in rows]

    def release_many(self, rows: list[PendingRow]) -> int:
        """This worker's claims of ``rows``, which it will not send on: due again now."""
        ids = [row.id for row in rows]
        with bind.begin(self.engine) as connection:  # Core only: no session to keep
            return release_rows(connection, ids, self.worker_id, self.clock.now())

    def recover_claims(self) -> int:
        """Rows claimed by a process that died mid-send: due again now (at-least-once).
        SQLite has one worker, so every claim is a dead one's; on PostgreSQL other workers
        may be sending, and only claims whose lease ran out are released (the others come
        due by themselves when their lease ends)."""
        shared = self.engine.dialect.name != "sqlite"
        with bind.session(self.engine) as session:
            released = release_claims(session, self.channels, self.clock.now(), expired_only=shared)
            session.commit()
            return released

    def _update(self, row_id: int, **values: Any) -> None:
        """Record an outcome: the claim ends with it."""
        with bind.session(self.engine) as session:
            record_outcome(session, row_id, **values)
            session.commit()

    def record_sent_many(self, sent: list[tuple[PendingRow, SendResult]]) -> list[None]:
        """Sent, in one transaction; on a channel without buttons the chat's menu is now
        that message's (in the same transaction, so the menu a number refers to is the one
        the user last saw)."""
        now = self.clock.now()
        ids = [(row.id, result.external_message_id) for row, result in sent]
        if not any(row.channel in self.menu_channels for row, _result in sent):
            with bind.begin(self.engine) as connection:  # Core only: no session to keep
                mark_sent_rows(connection, ids, now)
            return [None] * len(sent)
        with bind.session(self.engine) as session:
            mark_sent_rows(session, ids, now)
            for row, result in sent:
                if row.channel in self.menu_channels:
                    menu.remember(
                        session,
                        row.channel,
                        row.chat_id,
                        row.message.buttons,
                        result.external_message_id,
                        now,
                    )
            session.commit()
        return [None] * len(sent)

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
            self._update(row.id, status=OutboxStatus.FAILED, last_error=error)
            return None  # given up: the chat's next rows may go
        when = self.clock.now() + backoff_delay(self.settings, attempts)
        self._update(row.id, next_attempt_at=when, last_error=error)
        return when

    def record_failed(self, row: PendingRow, error: str) -> None:
        log.warning("outbox: message %d failed: %s", row.id, error)
        self._update(row.id, status=OutboxStatus.FAILED, last_error=error)

    def record_unreachable(self, row: PendingRow, error: str) -> int:
        """The chat cannot be reached (blocked the bot; the OA's −230/−232: outside its
        window): its identity is marked unreachable, and its pending rows addressed to an
        official move to that official's next channel (``bot.routing``) instead of being
        dropped; the rest become ``unreachable``. The number of rows moved."""
        now = self.clock.now()
        reason = f"contact stopped: {error}"
        moved = 0
        with bind.session(self.engine) as session:
            mark_identity_unreachable(session, row.channel, row.chat_id, now)
            waiting = pending_for_officials(session, row.channel, row.chat_id)
            targets = self.routing.recipients(session, waiting, now)
            for official_id, row_ids in waiting.items():
                target = targets.get(official_id)
                if target is None:
                    continue
                note = f"moved from {row.channel}: {reason}"
                readdress_rows(session, row_ids, target.channel, target.chat_id, now, note)
                moved += len(row_ids)
            mark_chat_unreachable(session, row.channel, row.chat_id, now, reason)
            session.commit()
        if moved:
            log.info("outbox: a %s chat cannot be reached; %d message(s) moved", row.channel, moved)
        else:
            log.info("outbox: a %s chat blocked the bot; marked unreachable", row.channel)
        return moved


def rebuild_store(
    engine: Bind,
    channels: Sequence[str],
    settings: Settings,
    menu_channels: Sequence[str],
    routing: Routing,
    worker_id: str,
) -> OutboxStore:
    """The outbox store in the database process, on the connection it holds (the routing is
    the parent's: building it imports every platform library).

    A store is built when a database process starts: the bot's first, or one replacing a
    process that died. On SQLite the bot is the one worker, and every claim still held was
    taken by a process now gone, so it is released at once (otherwise its message would wait
    for the lease to end): a send still in flight then is not sent twice, because the
    worker's drain queues a row once, and a new drain begins only when that one's sends
    have ended."""
    clock = SystemClock()
    store = OutboxStore(engine, channels, settings, clock, menu_channels, routing, worker_id)
    released = store.recover_claims()
    if released:
        log.warning("outbox: %d message(s) were in flight in an ended process; resending", released)
    return store
