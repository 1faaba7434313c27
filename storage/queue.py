"""Writing messages to send: outbox rows (and the reminder log keys that settle them).

The edges decide what to send to whom (``bot.pipeline``, ``bot.scheduler``); these functions
only write the rows, in the caller's transaction. Sending them is the outbox worker's part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import Table, bindparam, exists, insert, literal_column, select, text, update
from sqlmodel import Session

from storage.models import OUTBOX_PENDING_SQL, OutboxMessage, ReminderLog
from storage.prepared import Prepared, session_connection

_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_ROW = _OUTBOX.c
# Built once (asked for every answer): the partial index ix_outbox_pending_chat answers it.
_EARLIER_PENDING = Prepared(
    select(_ROW.id)
    .where(text(OUTBOX_PENDING_SQL))
    .where(_ROW.channel == bindparam("channel"))
    .where(_ROW.chat_id == bindparam("chat_id"))
    .where(_ROW.id < bindparam("first"))
    .limit(1)
)
_EARLIER = _OUTBOX.alias("earlier")
# The same question, and the row claimed for the worker that will send it when the answer
# is nothing else: one statement either way (storage.outbox_rows.claim_rows claims alike).
_CLAIM_IF_FIRST = Prepared(
    update(_OUTBOX)
    .where(_ROW.id == bindparam("first"))
    .where(
        ~exists()
        .where(text(f"earlier.{OUTBOX_PENDING_SQL}"))
        .where(_EARLIER.c.channel == bindparam("row_channel"))
        .where(_EARLIER.c.chat_id == bindparam("row_chat"))
        .where(_EARLIER.c.id < bindparam("first"))
    )
    .values(
        attempts=_ROW.attempts + literal_column("1"),  # a literal: the cursor's fast path
        claimed_at=bindparam("claim_at"),
        claimed_by=bindparam("claim_by"),
        next_attempt_at=bindparam("lease_end"),
    )
    .returning(_ROW.id)
)
# Built once too (every answer writes rows): a new statement object each time cost more in
# construction and cache-key generation than the INSERT itself. The columns come from the
# rows' keys when it runs.
_INSERT_ROWS = insert(_OUTBOX).returning(_ROW.id, sort_by_parameter_order=True)
_INSERT_ROW = Prepared(insert(_OUTBOX).returning(_ROW.id), keyed=True)  # most answers: one


@dataclass(frozen=True, slots=True)
class QueuedRow:
    """An outbox row just written: its id and the values it was written with."""

    id: int
    channel: str
    chat_id: str
    official_id: int | None
    kind: str
    text: str
    buttons: list[list[dict[str, str]]] | None
    file_path: str | None
    file_name: str | None
    reply_to_message_id: str | None
    edit_message_id: str | None
    assignment_id: int | None
    status: str
    attempts: int
    priority: int
    next_attempt_at: datetime
    created_at: datetime
    # Claimed in its writer's transaction for the worker that will send it (``ClaimTerms``):
    # ``attempts`` and ``next_attempt_at`` stay as written, the values before that try, as
    # a worker's snapshot of a row it claims (the table has the claim's).
    claimed: bool = False


@dataclass(frozen=True, slots=True)
class ClaimTerms:
    """What an answer's own transaction may claim for the outbox worker that will send it:
    its lease (``claimed_by``, how long) and the channels it sends on."""

    worker_id: str
    lease: timedelta
    channels: frozenset[str]


_QUEUED_FIELDS = tuple(
    field.name for field in fields(QueuedRow) if field.name not in ("id", "claimed")
)


def _complete(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every row with the same columns (one INSERT takes one set of keys): those a caller
    left out get the model's own defaults, as an ``OutboxMessage`` object would."""
    keys = {key for values in rows for key in values} | set(_QUEUED_FIELDS)
    model = OutboxMessage.model_fields
    complete: list[dict[str, Any]] = []
    for values in rows:
        row = dict(values)
        for key in keys - row.keys():
            default = model[key].get_default(call_default_factory=True)
            if default is PydanticUndefined:
                raise ValueError(f"an outbox row needs {key!r}")
            row[key] = default
        complete.append(row)
    return complete


def add_outbox_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[QueuedRow]:
    """One outbox row per mapping of column values (``channel`` and ``chat_id`` at least,
    the model's defaults for the rest), written with one INSERT on the session's
    connection: the rows of an inbound's answer go with its changes, and an ORM object and a
    flush for each cost more than the statement."""
    if not rows:
        return []
    complete = _complete(rows)
    ids = insert_outbox_rows(session, complete)
    return [
        QueuedRow(id=row_id, **{name: values[name] for name in _QUEUED_FIELDS})
        for row_id, values in zip(ids, complete, strict=True)
    ]


def insert_outbox_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """The same rows as one multi-row INSERT (a sweep may write 10,000 reminders); their ids,
    in the order given."""
    if not rows:
        return []
    if len(rows) == 1:
        return [int(_INSERT_ROW.scalar_one(session_connection(session), rows[0]))]
    inserted = session_connection(session).execute(_INSERT_ROWS, list(rows))
    return [int(row_id or 0) for row_id in inserted.scalars()]


def first_in_chats(
    session: Session,
    rows: Sequence[QueuedRow],
    claim: ClaimTerms | None = None,
    now: datetime | None = None,
) -> list[QueuedRow]:
    """Those of ``rows`` (just written, in id order) whose chat has no earlier pending row,
    asked in the writer's transaction: nothing of their chat is waiting before them, so the
    outbox worker may send them as written, without reading them back (``OutboxWorker.offer``).
    One indexed read per chat.

    With ``claim`` (the worker is running), only the chats of its channels count, and each
    such chat's first row is claimed for it by the same statement, at ``now``: the worker
    sends it without a claim of its own (a transaction and a round trip less per answer).
    The chat's later rows of the same answer go after it, claimed when their turn comes."""
    firsts: dict[tuple[str, str], int] = {}
    for row in rows:
        if claim is None or row.channel in claim.channels:
            firsts.setdefault((row.channel, row.chat_id), row.id)
    connection = session_connection(session)
    if claim is None:
        clear = {
            chat
            for chat, first in firsts.items()
            if _EARLIER_PENDING.first(
                connection, {"channel": chat[0], "chat_id": chat[1], "first": first}
            )
            is None
        }
        return [row for row in rows if (row.channel, row.chat_id) in clear]
    if now is None:
        raise ValueError("a claim needs the moment it is taken")
    terms = {"claim_at": now, "claim_by": claim.worker_id, "lease_end": now + claim.lease}
    claimed = {
        first
        for chat, first in firsts.items()
        if _CLAIM_IF_FIRST.first(
            connection, {"row_channel": chat[0], "row_chat": chat[1], "first": first, **terms}
        )
        is not None
    }
    clear = {(row.channel, row.chat_id) for row in rows if row.id in claimed}
    return [
        replace(row, claimed=True) if row.id in claimed else row
        for row in rows
        if (row.channel, row.chat_id) in clear
    ]


def insert_reminder_logs(session: Session, logs: Sequence[Mapping[str, Any]]) -> None:
    """Reminder log keys (unique: IntegrityError when another sweep wrote one first)."""
    if logs:
        session_connection(session).execute(insert(ReminderLog), list(logs))
