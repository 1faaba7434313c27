"""Single-use, expiring invite codes that link a phone account to an official.

The admin prints a code with ``papi-bot invite PHONE``; the official sends it to the bot (or
opens the ``t.me/<bot>?start=<code>`` link) and the conversation calls :func:`check_invite`
then :func:`mark_used`. Codes come from :mod:`secrets`, so nothing about them can be guessed
from the phone number or the time they were made.

Only a slow hash of each code is stored (:func:`hash_code`): the database file holds every
official's phone number, and a copy of it must not also hold codes that link a phone to an
official's account. The plain code exists once, in what :func:`create_invite` returns, for the
admin to print.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.identities import Account, link_identity
from storage.models import ChannelIdentity, Invite, Official

# No 0/O, 1/I: officials copy the code from a printed list or read it over the phone.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.]+")
_MAX_TRIES = 20
# PBKDF2 rather than one SHA-256: the codes have 40 bits, so a fast hash of a stolen database
# would be reversed in minutes; 20,000 rounds make that weeks, longer than a code lives
# (invites.ttl_days), while one lookup costs a few milliseconds. The salt is fixed because
# the hash is looked up; migration 0007 holds a copy of these two values.
HASH_ROUNDS = 20_000
HASH_SALT = b"papi-bot invite code v1"


class InviteProblem(Enum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    INACTIVE_OFFICIAL = "inactive_official"


class InviteAlreadyUsed(ValueError):
    """Another identity used the code between check and use (two phones, one code)."""


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    """A new invite: the stored row, and the plain code to print (it is not stored)."""

    invite: Invite
    code: str

    @property
    def expires_at(self) -> datetime:
        return self.invite.expires_at


def hash_code(code: str) -> str:
    """What the database holds for a code: PBKDF2-SHA256 of its normalised form, in hex."""
    normalized = normalize_code(code).encode()
    return hashlib.pbkdf2_hmac("sha256", normalized, HASH_SALT, HASH_ROUNDS).hex()


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


def create_invite(session: Session, official_id: int, now: datetime, ttl_days: int) -> IssuedInvite:
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
        digest = hash_code(code)
        if session.exec(select(Invite.id).where(Invite.code_hash == digest)).first() is None:
            break
    else:  # pragma: no cover - 20 collisions in a 10^12 space means a broken RNG
        raise RuntimeError("could not find an unused invite code")
    invite = Invite(
        code_hash=digest,
        official_id=official_id,
        created_at=now,
        expires_at=now + timedelta(days=ttl_days),
    )
    session.add(invite)
    session.flush()
    return IssuedInvite(invite, code)


def check_invite(session: Session, code: str, now: datetime) -> Invite | InviteProblem:
    """The invite if it can be used now, else why not."""
    _require_aware(now)
    normalized = normalize_code(code)
    if not looks_like_invite_code(normalized):
        return InviteProblem.UNKNOWN
    invite = session.exec(select(Invite).where(Invite.code_hash == hash_code(normalized))).first()
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
        raise InviteAlreadyUsed(f"invite {invite.id} was already used")
    invite.used_at = now
    invite.used_by_identity_id = identity_id


def redeem_invite(
    session: Session, invite: Invite, account: Account, now: datetime
) -> ChannelIdentity | None:
    """Link ``account`` to the invite's official and spend the code, all or nothing; None (and
    nothing changed) when another phone spent the code first."""
    savepoint = session.begin_nested()  # a lost race with another phone undoes all this
    identity = link_identity(session, account, invite.official_id, now)
    assert identity.id is not None
    try:
        mark_used(session, invite, identity.id, now)
    except InviteAlreadyUsed:
        savepoint.rollback()
        return None
    savepoint.commit()
    return identity
