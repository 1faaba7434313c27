"""Single-use, expiring invite codes that link a phone account to an official.

The admin prints a code with ``papi-bot invite PHONE``; the official sends it to the bot (or
opens the ``t.me/<bot>?start=<code>`` link) and the conversation calls :func:`check_invite`
then :func:`mark_used`. Codes come from :mod:`secrets`, so nothing about them can be guessed
from the phone number or the time they were made.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import Invite, Official

# No 0/O, 1/I: officials copy the code from a printed list or read it over the phone.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.]+")
_MAX_TRIES = 20


class InviteProblem(Enum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    INACTIVE_OFFICIAL = "inactive_official"


class InviteAlreadyUsed(ValueError):
    """Another identity used the code between check and use (two phones, one code)."""


def new_code() -> str:
    """A random code such as ``K7QM2XPA`` (about 10^12 possibilities), with at least one
    letter and one digit, so that no word or name ("CHUCMUNG") has the shape of a code."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if any(ch.isdigit() for ch in code) and any(ch.isalpha() for ch in code):
            return code


def normalize_code(text: str) -> str:
    """What the official typed, as stored: trimmed, upper case, no spaces or dashes."""
    return _SEPARATORS.sub("", text.strip()).upper()


def looks_like_invite_code(text: str) -> bool:
    """True when the text, once normalised, has the shape of a code (not whether it exists)."""
    code = normalize_code(text)
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def has_invite_format(text: str) -> bool:
    """True only for what a printed code looks like: one word of 8 code characters, or two
    groups of four ("K7QM 2XPA", "K7QM-2XPA"), with a digit and a letter. Words typed to
    the bot ("asdf qwer", "chuc mung") are not codes."""
    parts = _SEPARATORS.split(text.strip())
    if [len(part) for part in parts] not in ([CODE_LENGTH], [4, 4]):
        return False
    code = "".join(parts).upper()
    return (
        all(ch in ALPHABET for ch in code)
        and any(ch.isdigit() for ch in code)
        and any(ch.isalpha() for ch in code)
    )


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")


def create_invite(session: Session, official_id: int, now: datetime, ttl_days: int) -> Invite:
    """A fresh code for the official, valid ``ttl_days`` from ``now``.

    Earlier unused codes of the same official stop working: only the latest printed code is
    valid, so a lost list cannot be used later.
    """
    _require_aware(now)
    if ttl_days < 1:
        raise ValueError("ttl_days must be at least 1")
    if session.get(Official, official_id) is None:
        raise ValueError(f"no official with id {official_id}")
    session.execute(
        update(Invite)
        .where(col(Invite.official_id) == official_id)
        .where(col(Invite.used_at).is_(None))
        .where(col(Invite.expires_at) > now)
        .values(expires_at=now)
    )
    for _ in range(_MAX_TRIES):
        code = new_code()
        if session.exec(select(Invite.id).where(Invite.code == code)).first() is None:
            break
    else:  # pragma: no cover - 20 collisions in a 10^12 space means a broken RNG
        raise RuntimeError("could not find an unused invite code")
    invite = Invite(
        code=code,
        official_id=official_id,
        created_at=now,
        expires_at=now + timedelta(days=ttl_days),
    )
    session.add(invite)
    session.flush()
    return invite


def check_invite(session: Session, code: str, now: datetime) -> Invite | InviteProblem:
    """The invite if it can be used now, else why not."""
    _require_aware(now)
    normalized = normalize_code(code)
    if not looks_like_invite_code(normalized):
        return InviteProblem.UNKNOWN
    invite = session.exec(select(Invite).where(Invite.code == normalized)).first()
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.used_at is not None:
        return InviteProblem.USED
    if invite.expires_at <= now:
        return InviteProblem.EXPIRED
    official = session.get(Official, invite.official_id)
    if official is None or not official.active:
        return InviteProblem.INACTIVE_OFFICIAL
    return invite


def mark_used(session: Session, invite: Invite, identity_id: int, now: datetime) -> None:
    """Spend the code; raises :class:`InviteAlreadyUsed` if someone spent it first.

    The update is conditional on ``used_at IS NULL`` so two phones racing with one code
    cannot both succeed.
    """
    _require_aware(now)
    result = session.execute(
        update(Invite)
        .where(col(Invite.id) == invite.id)
        .where(col(Invite.used_at).is_(None))
        .values(used_at=now, used_by_identity_id=identity_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteAlreadyUsed(f"invite {invite.code} was already used")
    invite.used_at = now
    invite.used_by_identity_id = identity_id
