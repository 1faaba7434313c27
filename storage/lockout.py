"""Invite-code guessing: after a few wrong codes from one chat, that chat waits a while.

Codes have 40 random bits, so guessing one is hopeless only if guesses are slow. Each wrong
code is counted per (channel, chat) within a window; reaching the limit locks the chat out,
and while it is locked no code is even checked (a right one included), so a guesser learns
nothing. A successful registration clears the count. Every refusal and every lockout is
logged with the chat, never with the code typed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage.models import InviteLockout

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5  # wrong codes allowed within the window
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=60)


def _row(session: Session, channel: str, chat_id: str) -> InviteLockout | None:
    return session.exec(
        select(InviteLockout)
        .where(InviteLockout.channel == channel)
        .where(InviteLockout.chat_id == chat_id)
    ).first()


def locked_until(session: Session, channel: str, chat_id: str, now: datetime) -> datetime | None:
    """When the chat may try again, if it is locked out now; else None."""
    row = _row(session, channel, chat_id)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def record_failure(
    session: Session, channel: str, chat_id: str, now: datetime, policy: LockoutPolicy
) -> datetime | None:
    """Count one wrong code; the end of the lockout if this one starts it, else None."""
    row = _row(session, channel, chat_id)
    expired = row is not None and (
        (row.locked_until is not None and row.locked_until <= now)
        or (row.locked_until is None and now - row.first_failure_at > policy.window)
    )
    if row is None:
        row = InviteLockout(channel=channel, chat_id=chat_id, first_failure_at=now)
    if expired:  # a lockout served, or old mistakes: start counting again
        row.failures, row.first_failure_at, row.locked_until = 0, now, None
    row.failures += 1
    log.info(
        "invite code refused for %s chat %s (%d of %d)",
        channel,
        chat_id,
        row.failures,
        policy.max_failures,
    )
    if row.failures >= policy.max_failures:
        row.locked_until = now + policy.lockout
        log.warning(
            "invite lockout: %s chat %s sent %d wrong codes, locked until %s",
            channel,
            chat_id,
            row.failures,
            row.locked_until.isoformat(),
        )
    session.add(row)
    session.flush()
    return row.locked_until


def clear_failures(session: Session, channel: str, chat_id: str) -> None:
    """The chat registered: its earlier mistakes no longer count."""
    row = _row(session, channel, chat_id)
    if row is not None:
        session.delete(row)
        session.flush()
