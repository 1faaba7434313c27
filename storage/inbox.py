"""The webhook inbox: a platform's update is stored here before its 200 goes back.

Zalo's redelivery after an error is undocumented, so an answer must never depend on it: the
webhook handler commits the raw update (deduped by the platform's own message id) and only
then answers 200; a worker applies the stored rows afterwards and marks them processed. A
crash after the 200 loses nothing: the worker picks the unprocessed rows up at the next
start. Applying twice is harmless too (the pipeline's ``ProcessedUpdate`` dedupes by key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import UTCDateTime

KEY_MAX = 255


class InboxUpdate(SQLModel, table=True):
    """One received update of ``channel``, its raw JSON body, and when it was processed."""

    __table_args__ = (UniqueConstraint("channel", "update_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32, index=True)
    update_key: str = Field(max_length=KEY_MAX)
    body: str = Field(sa_type=Text)
    received_at: datetime = Field(sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    id: int
    channel: str
    update_key: str
    body: dict[str, Any]


def store_update(
    session: Session, channel: str, update_key: str, body: dict[str, Any], now: datetime
) -> bool:
    """Store ``body`` once per (channel, key); False if it was already there (a replay)."""
    key = update_key[:KEY_MAX]
    known = session.exec(
        select(InboxUpdate.id).where(InboxUpdate.channel == channel, InboxUpdate.update_key == key)
    ).first()
    if known is not None:
        return False
    row = InboxUpdate(
        channel=channel,
        update_key=key,
        body=json.dumps(body, ensure_ascii=False),
        received_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent insert of the same key loses quietly
            session.add(row)
    except IntegrityError:
        return False
    return True


def pending_updates(session: Session, channel: str, limit: int = 50) -> list[StoredUpdate]:
    """The unprocessed updates of ``channel``, oldest first."""
    rows = session.exec(
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel, col(InboxUpdate.processed_at).is_(None))
        .order_by(col(InboxUpdate.id))
        .limit(limit)
    ).all()
    return [
        StoredUpdate(row.id or 0, row.channel, row.update_key, json.loads(row.body)) for row in rows
    ]


def mark_processed(session: Session, row_id: int, now: datetime) -> None:
    session.execute(
        update(InboxUpdate).where(col(InboxUpdate.id) == row_id).values(processed_at=now)
    )
