"""The outbox worker's writes: claim a row, record its outcome, release a claim not sent
on, recover a dead worker's claims, mark a chat unreachable, move its rows to another chat
of their official.
``bot.outbox_store`` reads the queue and calls these; each takes the caller's session and
leaves the commit to it, so an outcome and what goes with it (the chat's numbered menu) are
one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, tuple_, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.models import ChannelIdentity, OutboxMessage, OutboxStatus
from storage.prepared import Prepared

# The per-message writes (claim, outcome) are Core UPDATEs on the table, run on the session's
# connection: the ORM's bulk-update path (entity plugin, identity-map synchronisation) cost
# more than the statement itself, twice per message sent (docs/performance.md). No ORM object
# of these rows is kept in the worker's sessions, so there is nothing to synchronise.
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_ROW = _OUTBOX.c


# The two writes of every message sent, built once (building them cost more than running
# them): the claim of one row (nearly every claim: the worker groups only the claims of one
# moment) and the "sent" outcome (run once per row, as one executemany).
_CLAIM_ONE = Prepared(
    update(_OUTBOX)
    .where(_ROW.id == bindparam("row_id"))
    .where(_ROW.attempts == bindparam("version"))
    .where(_ROW.channel == bindparam("row_channel"))
    .where(_ROW.chat_id == bindparam("row_chat"))
    .where(_ROW.status == OutboxStatus.PENDING)
    .values(
        attempts=_ROW.attempts + 1,
        claimed_at=bindparam("claim_at"),
        claimed_by=bindparam("claim_by"),
        next_attempt_at=bindparam("lease_end"),
    )
    .returning(_ROW.id)
)
_MARK_SENT = Prepared(
    update(_OUTBOX)
    .where(_ROW.id == bindparam("sent_id"))
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("sent_now"),
        external_message_id=bindparam("external_id"),
        last_error=None,
        claimed_at=None,
        claimed_by=None,
    )
)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def _connection(db: Session | Connection) -> Connection:
    """The writer's connection: a session's, or a bare one (the worker's own transactions,
    where a session would only add its bookkeeping)."""
    return db if isinstance(db, Connection) else db.connection()


@dataclass(frozen=True, slots=True)
class Claim:
    """A row as the worker read it: its id, version (attempt count) and chat."""

    row_id: int
    attempts: int
    channel: str
    chat_id: str


def claim_rows(
    db: Session | Connection,
    claims: Sequence[Claim],
    now: datetime,
    lease: timedelta,
    worker_id: str | None = None,
) -> set[int]:
    """Take pending rows for sending, each unless another worker (or an earlier try)
    changed it since it was read: the attempt count is the row's version, and the row must
    still be addressed to the same (channel, chat_id) (it may have moved to another channel
    of its official meanwhile: ``readdress_rows``). A claim is a lease: its row comes due
    again at ``now + lease`` unless its worker records an outcome first. The ids taken.

    One transaction for all the rows (the worker claims every row whose turn came at the
    same moment together: one commit, not one per message). On SQLite, the one writer, each
    row is its own prebuilt UPDATE (building one statement for the set cost more than
    running several). On PostgreSQL the rows are first locked with ``FOR UPDATE SKIP
    LOCKED`` (a row another worker is claiming at this very moment is skipped at once
    instead of waited for), then taken with one UPDATE."""
    if not claims:
        return set()
    connection = _connection(db)
    shared = connection.dialect.name == "postgresql"
    if not shared:  # one writer at a time: a row's own UPDATE, as many times as rows
        lease_end = now + lease
        return {
            row_id
            for claim in claims
            for (row_id,) in _CLAIM_ONE.rows(
                connection,
                {
                    "row_id": claim.row_id,
                    "version": claim.attempts,
                    "row_channel": claim.channel,
                    "row_chat": claim.chat_id,
                    "claim_at": now,
                    "claim_by": worker_id,
                    "lease_end": lease_end,
                },
            )
        }
    versions = [(c.row_id, c.attempts, c.channel, c.chat_id) for c in claims]
    match = tuple_(_ROW.id, _ROW.attempts, _ROW.channel, _ROW.chat_id).in_(versions)
    if shared:
        locked = connection.execute(
            select(_ROW.id)
            .where(match)
            .where(_ROW.status == OutboxStatus.PENDING)
            .with_for_update(skip_locked=True)
        ).scalars()
        match = _ROW.id.in_(list(locked))
    # Core on the session's connection: the ORM's bulk-update path costs more than the
    # statement itself.
    taken = connection.execute(
        update(_OUTBOX)
        .where(match)
        .where(_ROW.status == OutboxStatus.PENDING)
        .values(
            attempts=_ROW.attempts + 1,
            claimed_at=now,
            claimed_by=worker_id,
            next_attempt_at=now + lease,
        )
        .returning(_ROW.id)
    ).scalars()
    return set(taken)


def release_claims(
    session: Session, channels: Sequence[str], now: datetime, *, expired_only: bool = False
) -> int:
    """Rows claimed by a process that died mid-send become due again (at-least-once).
    With ``expired_only`` (several workers share the outbox) only claims whose lease has
    run out: a live worker's send in flight is left to it."""
    query = (
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(col(OutboxMessage.claimed_at).is_not(None))
        .where(col(OutboxMessage.channel).in_(list(channels)))
    )
    if expired_only:
        query = query.where(col(OutboxMessage.next_attempt_at) <= now)
    result = session.execute(
        query.values(
            next_attempt_at=now,
            claimed_at=None,
            claimed_by=None,
            last_error="interrupted by a restart",
        )
    )
    return _rowcount(result)


def release_rows(
    db: Session | Connection, ids: Sequence[int], worker_id: str, now: datetime
) -> int:
    """Claims ``worker_id`` took but will not send on (the chat's drain gave up before the
    send began): due again at ``now``. A row claimed since by another worker is left alone."""
    if not ids:
        return 0
    result = _connection(db).execute(
        update(_OUTBOX)
        .where(_ROW.id.in_(list(ids)))
        .where(_ROW.claimed_by == worker_id)
        .where(_ROW.status == OutboxStatus.PENDING)
        .values(claimed_at=None, claimed_by=None, next_attempt_at=now)
    )
    return _rowcount(result)


def record_outcome(session: Session, row_id: int, **values: Any) -> None:
    """A try's outcome (next attempt, error, failed): the claim ends with it."""
    session.connection().execute(
        update(_OUTBOX).where(_ROW.id == row_id).values(claimed_at=None, claimed_by=None, **values)
    )


def mark_sent(session: Session, row_id: int, now: datetime, external_id: str | None) -> None:
    mark_sent_rows(session, [(row_id, external_id)], now)


def mark_sent_rows(
    db: Session | Connection, sent: Sequence[tuple[int, str | None]], now: datetime
) -> None:
    """Rows sent (id, the platform's message id): one statement run for all of them."""
    if not sent:
        return
    _MARK_SENT.run_many(
        _connection(db),
        [
            {"sent_id": row_id, "external_id": external, "sent_now": now}
            for row_id, external in sent
        ],
    )


def mark_identity_unreachable(session: Session, channel: str, chat_id: str, now: datetime) -> None:
    """The platform says this chat cannot be reached: its identity gets ``unreachable_at``
    (cleared when the official writes from it again)."""
    session.execute(
        update(ChannelIdentity)
        .where(col(ChannelIdentity.channel) == channel)
        .where(col(ChannelIdentity.chat_id) == chat_id)
        .where(col(ChannelIdentity.unreachable_at).is_(None))
        .values(unreachable_at=now)
    )


def pending_for_officials(session: Session, channel: str, chat_id: str) -> dict[int, list[int]]:
    """The chat's pending rows addressed to an official: official id → row ids, in order."""
    found: dict[int, list[int]] = {}
    for row_id, official_id in session.exec(
        select(OutboxMessage.id, OutboxMessage.official_id)
        .where(col(OutboxMessage.channel) == channel)
        .where(col(OutboxMessage.chat_id) == chat_id)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(col(OutboxMessage.official_id).is_not(None))
        .order_by(col(OutboxMessage.id))
    ):
        if row_id is not None and official_id is not None:
            found.setdefault(official_id, []).append(row_id)
    return found


def readdress_rows(
    session: Session, row_ids: Sequence[int], channel: str, chat_id: str, now: datetime, note: str
) -> None:
    """Pending rows move to another chat of their official, due now. A reply or an edit
    refers to a message of the old chat: the new one gets a plain message."""
    if not row_ids:
        return
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(list(row_ids)))
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(
            channel=channel,
            chat_id=chat_id,
            reply_to_message_id=None,
            edit_message_id=None,
            next_attempt_at=now,
            claimed_at=None,
            claimed_by=None,
            last_error=note,
        )
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
        .values(
            status=OutboxStatus.UNREACHABLE, last_error=reason, claimed_at=None, claimed_by=None
        )
    )
    mark_identity_unreachable(session, channel, chat_id, now)
