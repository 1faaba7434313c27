"""Channel accounts of officials: linking a chat to an official, noting where and when they
write from, the channel they chose (/kenh), and the inbound dedupe row written first in every
inbound transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, exists, insert, update
from sqlalchemy import select as sql_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from storage.models import ChannelIdentity, Official, ProcessedUpdate
from storage.person import Person
from storage.prebuilt import UpdateById
from storage.prepared import Prepared, session_connection

_PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
_IDENTITY: Table = ChannelIdentity.__table__  # type: ignore[attr-defined]
# Built once: the first statement of every inbound (a new INSERT object each time cost more
# in construction and cache-key generation than running it).
_MARK = Prepared(insert(_PROCESSED), keyed=True)


@dataclass(frozen=True, slots=True)
class Account:
    """One person's account on one channel, as the channel names it."""

    channel: str
    external_user_id: str
    chat_id: str
    display_name: str | None = None


def find_identity(session: Session, channel: str, external_user_id: str) -> ChannelIdentity | None:
    return session.exec(
        select(ChannelIdentity)
        .where(ChannelIdentity.channel == channel)
        .where(ChannelIdentity.external_user_id == external_user_id)
    ).first()


@dataclass(frozen=True, slots=True)
class Link:
    """An account's link to its official, as read for one message."""

    id: int
    official_id: int
    chat_id: str
    unreachable_at: datetime | None
    last_inbound_at: datetime | None

    @classmethod
    def of(cls, identity: ChannelIdentity) -> Link:
        """The values of a loaded (flushed) ``ChannelIdentity``."""
        assert identity.id is not None
        return cls(
            identity.id,
            identity.official_id,
            identity.chat_id,
            identity.unreachable_at,
            identity.last_inbound_at,
        )


_OFFICIAL: Table = Official.__table__  # type: ignore[attr-defined]
# Built once with bound parameters: the statement of every inbound message, whose
# construction cost more than running it (docs/performance.md). Plain columns, not ORM
# objects (``storage.person``).
_SENDER = Prepared(
    sql_select(
        _IDENTITY.c.id,
        _IDENTITY.c.official_id,
        _IDENTITY.c.chat_id,
        _IDENTITY.c.unreachable_at,
        _IDENTITY.c.last_inbound_at,
        _OFFICIAL.c.name,
        _OFFICIAL.c.unit_id,
        _OFFICIAL.c.role,
        _OFFICIAL.c.locale,
        _OFFICIAL.c.active,
        _OFFICIAL.c.preferred_channel,
    )
    .join(_OFFICIAL, _OFFICIAL.c.id == _IDENTITY.c.official_id)
    .where(_IDENTITY.c.channel == bindparam("channel"))
    .where(_IDENTITY.c.external_user_id == bindparam("user"))
)


def find_sender(
    session: Session, channel: str, external_user_id: str
) -> tuple[Link, Person] | None:
    """The account's link with its official, in one query (every inbound asks this)."""
    params = {"channel": channel, "user": external_user_id}
    row = _SENDER.first(session_connection(session), params)
    if row is None:
        return None
    link = Link(row.id, row.official_id, row.chat_id, row.unreachable_at, row.last_inbound_at)
    person = Person(
        id=row.official_id,
        name=row.name,
        unit_id=row.unit_id,
        role=row.role,
        locale=row.locale,
        active=row.active,
        preferred_channel=row.preferred_channel,
    )
    return link, person


def link_identity(
    session: Session, account: Account, official_id: int, now: datetime
) -> ChannelIdentity:
    """Link the account to the official (flushed). An identity this account already has (of a
    deactivated official, say) moves over, and is reachable again."""
    identity = find_identity(session, account.channel, account.external_user_id)
    if identity is None:
        identity = ChannelIdentity(
            official_id=official_id,
            channel=account.channel,
            external_user_id=account.external_user_id,
            chat_id=account.chat_id,
        )
    identity.official_id = official_id
    identity.chat_id = account.chat_id
    identity.display_name = account.display_name
    identity.linked_at = now
    identity.unreachable_at = None
    identity.last_inbound_at = now  # linking is writing: the invite code came from here
    session.add(identity)
    session.flush()
    return identity


def note_chat(
    session: Session, identity: Link | ChannelIdentity, chat_id: str, now: datetime
) -> None:
    """The official wrote to us from ``chat_id`` at ``now``: that is where to write back, this
    channel is the one they last wrote from, and it is reachable again (whatever a platform
    said before). Written at once by one prebuilt UPDATE; a loaded ORM identity takes the
    values as its committed state (as a dirty ORM object it cost a flush of its own before
    the conversation's first query)."""
    last = identity.last_inbound_at
    if last is not None and last >= now:
        if identity.chat_id == chat_id and identity.unreachable_at is None:
            return  # nothing to write
        now = last  # never moved back: a late redelivered message is not "last written"
    values = {"chat_id": chat_id, "unreachable_at": None, "last_inbound_at": now}
    assert identity.id is not None
    _NOTE_CHAT.run(session_connection(session), identity.id, values)
    if isinstance(identity, ChannelIdentity):
        for name, value in values.items():
            set_committed_value(identity, name, value)


_NOTE_CHAT = UpdateById(_IDENTITY, ("chat_id", "unreachable_at", "last_inbound_at"))


def linked_identities(
    session: Session, official_ids: Iterable[int]
) -> dict[int, list[ChannelIdentity]]:
    """Every account of each official, reachable or not, oldest link first (ties: by id); one
    query per 500 officials, so a sweep of 10,000 reminders stays cheap."""
    wanted = sorted(set(official_ids))
    found: dict[int, list[ChannelIdentity]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        for identity in session.exec(
            select(ChannelIdentity)
            .where(col(ChannelIdentity.official_id).in_(wanted[start : start + 500]))
            .order_by(col(ChannelIdentity.linked_at), col(ChannelIdentity.id))
        ):
            found[identity.official_id].append(identity)
    return found


def preferred_channels(session: Session, official_ids: Iterable[int]) -> dict[int, str]:
    """The channel each official chose with /kenh (those who chose none are left out)."""
    wanted = sorted(set(official_ids))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        for official_id, channel in session.exec(
            select(Official.id, Official.preferred_channel)
            .where(col(Official.id).in_(wanted[start : start + 500]))
            .where(col(Official.preferred_channel).is_not(None))
        ):
            if official_id is not None and channel is not None:
                found[official_id] = channel
    return found


def choose_channel(session: Session, official_id: int, channel: str | None) -> None:
    """Reminders and notices go to ``channel`` from now on; None: to the channel the official
    last wrote from (written at once; a loaded ``Official`` is updated too)."""
    session.execute(
        update(Official).where(col(Official.id) == official_id).values(preferred_channel=channel)
    )


def mark_processed(
    session: Session,
    channel: str,
    update_key: str,
    now: datetime,
    earlier: tuple[str, datetime] | None = None,
) -> bool:
    """Record an inbound update as applied (at once); IntegrityError if it already was.
    ``earlier``: the key an earlier version recorded for the same update, and since when a
    row under it means "this update" — found, nothing is written and the answer is False.
    A Core INSERT (… SELECT … WHERE NOT EXISTS for the earlier key): the first statement of
    every inbound, where an ORM object, a flush and a second query cost more than it."""
    if earlier is None:
        _MARK.run(
            session_connection(session),
            {"channel": channel, "update_key": update_key, "processed_at": now},
        )
        return True
    params = {"channel": channel, "key": update_key, "now": now}
    params |= {"earlier": earlier[0], "since": earlier[1]}
    # RETURNING, not rowcount: psycopg gives -1 for an INSERT … SELECT.
    written = _PROCESSED_UNLESS_EARLIER.first(session_connection(session), params)
    return written is not None


def _processed_unless_earlier() -> Any:
    column = _PROCESSED.c
    channel = bindparam("channel", type_=column.channel.type)
    applied_before = (
        exists()
        .where(column.channel == channel)
        .where(column.update_key == bindparam("earlier", type_=column.update_key.type))
        .where(column.processed_at >= bindparam("since", type_=column.processed_at.type))
    )
    row = sql_select(
        channel,
        bindparam("key", type_=column.update_key.type),
        bindparam("now", type_=column.processed_at.type),
    ).where(~applied_before)
    columns = ["channel", "update_key", "processed_at"]
    return insert(_PROCESSED).from_select(columns, row).returning(column.id)


# Built once with bound parameters: the first statement of every message with an earlier key.
_PROCESSED_UNLESS_EARLIER = Prepared(_processed_unless_earlier())
