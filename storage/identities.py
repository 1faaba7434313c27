"""Channel accounts of officials: linking a chat to an official, noting where they write from,
and the inbound dedupe row written first in every inbound transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import ChannelIdentity, Official, ProcessedUpdate


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


def find_identity_and_official(
    session: Session, channel: str, external_user_id: str
) -> tuple[ChannelIdentity, Official] | None:
    """The account's identity with its official, in one query (every inbound asks this)."""
    row = session.exec(
        select(ChannelIdentity, Official)
        .join(Official, col(Official.id) == col(ChannelIdentity.official_id))
        .where(ChannelIdentity.channel == channel)
        .where(ChannelIdentity.external_user_id == external_user_id)
    ).first()
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
    session.add(identity)
    session.flush()
    return identity


def note_chat(session: Session, identity: ChannelIdentity, chat_id: str) -> None:
    """The official wrote to us from ``chat_id``: that is where to write back, and it is
    reachable again (whatever a platform said before)."""
    if identity.chat_id != chat_id or identity.unreachable_at is not None:
        identity.chat_id = chat_id
        identity.unreachable_at = None
        session.add(identity)


def mark_processed(session: Session, channel: str, update_key: str, now: datetime) -> None:
    """Record an inbound update as applied (flushed); IntegrityError if it already was."""
    session.add(ProcessedUpdate(channel=channel, update_key=update_key, processed_at=now))
    session.flush()
