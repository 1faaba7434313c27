"""Exactly once: each planned send is written as ReminderLog keys + outbox rows together.

A batch of planned sends is written in one transaction. If a key is already there (another
sweep got there first) the batch is rolled back and each send is retried in a transaction of
its own, where a duplicate key means "already sent": skipped, nothing written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.pipeline import outbox_values
from bot.routing import Routing
from handlers.types import Outbound
from storage.db import session_scope
from storage.models import ReminderLog
from storage.queue import insert_outbox_rows, insert_reminder_logs

log = logging.getLogger(__name__)
BATCH = 200


@dataclass(frozen=True, slots=True)
class LogKey:
    key: str
    kind: str
    due_at: datetime
    assignment_id: int | None = None
    official_id: int | None = None


@dataclass
class Planned:
    """One send: the keys it settles and its messages (none: settled without a message).
    Each becomes one row, in the chat ``bot.routing`` picks for its official."""

    keys: list[LogKey]
    outbounds: list[Outbound] = field(default_factory=list)  # in the order to send


@dataclass
class Written:
    keys: int = 0
    messages: int = 0
    skipped: int = 0  # planned sends whose key was already logged


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        found.update(session.exec(select(ReminderLog.key).where(col(ReminderLog.key).in_(chunk))))
    return found


def _add(session: Session, batch: Sequence[Planned], now: datetime, routing: Routing) -> int:
    """One outbox row per message, in the chat ``routing`` picks for its recipient (the rows
    ``pipeline.enqueue`` writes, but as two multi-row INSERTs per batch: a sweep may write
    10,000 reminders), then the keys, each pointing at the first row of its send."""
    recipients = routing.recipients(
        session, (o.official_id for p in batch for o in p.outbounds if o.official_id), now
    )
    rows: list[dict[str, Any]] = []
    owners: list[int] = []
    for index, planned in enumerate(batch):
        for outbound in planned.outbounds:
            identity = recipients.get(outbound.official_id or 0)
            if identity is not None:
                rows.append(
                    outbox_values(
                        outbound,
                        identity.channel,
                        identity.chat_id,
                        identity.official_id,
                        now,
                        same_chat=False,
                    )
                )
                owners.append(index)
    first_ids: dict[int, int] = {}
    for index, row_id in zip(owners, insert_outbox_rows(session, rows), strict=True):
        first_ids.setdefault(index, row_id)
    logs = [
        {
            "key": item.key,
            "kind": item.kind,
            "assignment_id": item.assignment_id,
            "official_id": item.official_id,
            "due_at": item.due_at,
            "created_at": now,
            "outbox_id": first_ids.get(index),
        }
        for index, planned in enumerate(batch)
        for item in planned.keys
    ]
    insert_reminder_logs(session, logs)
    return len(rows)


def write(
    engine: Engine, planned: Sequence[Planned], now: datetime, *, routing: Routing | None = None
) -> Written:
    """Write every planned send at most once; committed batch by batch. ``routing`` None: no
    channel's free window counts (the sweep passes the configured one)."""
    routing = routing or Routing()
    written = Written()
    for start in range(0, len(planned), BATCH):
        batch = planned[start : start + BATCH]
        try:
            with session_scope(engine) as session:
                messages = _add(session, batch, now, routing)
            written.keys += sum(len(item.keys) for item in batch)
            written.messages += messages
        except IntegrityError:
            log.info("reminder keys written concurrently; retrying one by one")
            for item in batch:
                _write_one(engine, item, now, written, routing)
    return written


def _write_one(
    engine: Engine, item: Planned, now: datetime, written: Written, routing: Routing
) -> None:
    try:
        with session_scope(engine) as session:
            messages = _add(session, [item], now, routing)
    except IntegrityError:
        written.skipped += 1
        return
    written.keys += len(item.keys)
    written.messages += messages
