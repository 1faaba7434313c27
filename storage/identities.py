"""Channel accounts of officials: linking a chat to an official, noting where and when they
write from, the channel they chose (/kenh), and the inbound dedupe row written first in every
inbound transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, insert
from sqlmodel import Session, col, select

from storage.models import ChannelIdentity, Official, ProcessedUpdate

_PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[attr-defined]


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


# Built once with bound parameters: the statement of every inbound message, whose
# construction cost more than running it (docs/performance.md).
_IDENTITY_AND_OFFICIAL = (
    select(ChannelIdentity, Official)
    .join(Official, col(Official.id) == col(ChannelIdentity.official_id))
    .where(col(ChannelIdentity.channel) == bindparam("channel"))
    .where(col(ChannelIdentity.external_user_id) == bindparam("user"))
)


def find_identity_and_official(
    session: Session, channel: str, external_user_id: str
) -> tuple[ChannelIdentity, Official] | None:
    """The account's identity with its official, in one query (every inbound asks this)."""
    params = {"channel": channel, "user": external_user_id}
    row = session.exec(_IDENTITY_AND_OFFICIAL, params=params).first()
    return (row[0], row[1]) if row is not None else None


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


def note_chat(session: Session, identity: ChannelIdentity, chat_id: str, now: datetime) -> None:
    """The official wrote to us from ``chat_id`` at ``now``: that is where to write back, this
    channel is the one they last wrote from, and it is reachable again (whatever a platform
    said before)."""
    identity.chat_id = chat_id
    identity.unreachable_at = None
    if identity.last_inbound_at is None or identity.last_inbound_at < now:
        identity.last_inbound_at = now
    session.add(identity)


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


def choose_channel(session: Session, official: Official, channel: str | None) -> None:
    """Reminders and notices go to ``channel`` from now on; None: to the channel the official
    last wrote from (flushed)."""
    official.preferred_channel = channel
    session.add(official)
    session.flush()


def mark_processed(session: Session, channel: str, update_key: str, now: datetime) -> None:
    """Record an inbound update as applied (at once); IntegrityError if it already was.
    A Core INSERT: the first statement of every inbound, an ORM object and a flush cost
    more than the statement."""
    session.connection().execute(
        insert(_PROCESSED), {"channel": channel, "update_key": update_key, "processed_at": now}
    )


def processed_since(session: Session, channel: str, update_key: str, since: datetime) -> bool:
    """Whether ``update_key`` was recorded at ``since`` or later (a key an earlier version
    wrote, checked for a redelivery of the same update)."""
    found = session.exec(
        select(ProcessedUpdate.id)
        .where(ProcessedUpdate.channel == channel)
        .where(ProcessedUpdate.update_key == update_key)
        .where(col(ProcessedUpdate.processed_at) >= since)
    ).first()
    return found is not None
