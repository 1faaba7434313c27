"""The Zalo OA's token pair: the database is its only home once the first refresh ran.

Zalo's refresh token is single-use and rotates with every refresh, so the pair must survive a
crash: the new pair is committed (``store_refreshed``) before the new access token is used,
and only one process refreshes at a time (``claim_refresh`` takes a short lease, checked by
the row's ``generation``, so two workers never spend the same refresh token). A refresh that
Zalo refuses marks the row ``needs_reauthorization`` for the admin; the old access token stays
stored and usable until it expires. Tokens are never logged; nothing here knows HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import utcnow
from storage.types import UTCDateTime

TOKEN_MAX = 2048  # Zalo's tokens are a few hundred characters; keep room


class OAToken(SQLModel, table=True):
    """One Official Account app's live token pair (``app_id`` is Zalo's app id)."""

    id: int | None = Field(default=None, primary_key=True)
    app_id: str = Field(unique=True, max_length=64)
    access_token: str = Field(default="", max_length=TOKEN_MAX)
    refresh_token: str = Field(max_length=TOKEN_MAX)
    access_expires_at: datetime = Field(sa_type=UTCDateTime)
    generation: int = 0  # +1 with every stored pair: the compare-and-swap key
    refresh_claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    needs_reauthorization: bool = False
    last_error: str | None = Field(default=None, max_length=255)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class TokenPair:
    """A snapshot of the stored pair (never a live ORM row)."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    generation: int
    needs_reauthorization: bool
    last_error: str | None = None


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def get_tokens(session: Session, app_id: str) -> TokenPair | None:
    row = session.exec(select(OAToken).where(OAToken.app_id == app_id)).first()
    if row is None:
        return None
    return TokenPair(
        access_token=row.access_token,
        refresh_token=row.refresh_token,
        access_expires_at=row.access_expires_at,
        generation=row.generation,
        needs_reauthorization=row.needs_reauthorization,
        last_error=row.last_error,
    )


def seed_refresh_token(session: Session, app_id: str, refresh_token: str, now: datetime) -> bool:
    """Store the first refresh token (from ZALO_OA_REFRESH_TOKEN) if there is no row yet.

    Once a row exists the database is the truth: the environment's token was spent by the
    first refresh, so it is never written over the live one. True if it was stored.
    """
    _require_aware(now)
    if not refresh_token:
        raise ValueError("empty refresh token")
    if session.exec(select(OAToken.id).where(OAToken.app_id == app_id)).first() is not None:
        return False
    session.add(
        OAToken(app_id=app_id, refresh_token=refresh_token, access_expires_at=now, updated_at=now)
    )
    session.flush()
    return True


def store_authorized(
    session: Session,
    app_id: str,
    *,
    access_token: str,
    refresh_token: str,
    access_expires_at: datetime,
    now: datetime,
) -> TokenPair:
    """A pair from a fresh authorisation (the admin's consent code): replaces whatever was."""
    _require_aware(now)
    row = session.exec(select(OAToken).where(OAToken.app_id == app_id)).first()
    if row is None:
        row = OAToken(app_id=app_id, refresh_token=refresh_token, access_expires_at=now)
    row.access_token = access_token
    row.refresh_token = refresh_token
    row.access_expires_at = access_expires_at
    row.generation += 1
    row.refresh_claimed_until = None
    row.needs_reauthorization = False
    row.last_error = None
    row.updated_at = now
    session.add(row)
    session.flush()
    pair = get_tokens(session, app_id)
    assert pair is not None
    return pair


def claim_refresh(
    session: Session, app_id: str, generation: int, now: datetime, lease_seconds: int
) -> bool:
    """Take the right to spend the refresh token of ``generation`` for ``lease_seconds``.

    False if the pair changed meanwhile or another process holds an unexpired lease.
    """
    _require_aware(now)
    claimed = col(OAToken.refresh_claimed_until)
    result = session.execute(
        update(OAToken)
        .where(col(OAToken.app_id) == app_id)
        .where(col(OAToken.generation) == generation)
        .where(claimed.is_(None) | (claimed < now))
        .values(refresh_claimed_until=now + timedelta(seconds=lease_seconds))
    )
    return _rowcount(result) == 1


def store_refreshed(
    session: Session,
    app_id: str,
    generation: int,
    *,
    access_token: str,
    refresh_token: str,
    access_expires_at: datetime,
    now: datetime,
) -> bool:
    """Replace the pair of ``generation`` by the refreshed one (in the caller's transaction,
    which must commit before the new access token is used). False if the pair changed."""
    _require_aware(now)
    if not access_token or not refresh_token:
        raise ValueError("a refreshed pair needs both tokens")
    result = session.execute(
        update(OAToken)
        .where(col(OAToken.app_id) == app_id)
        .where(col(OAToken.generation) == generation)
        .values(
            access_token=access_token,
            refresh_token=refresh_token,
            access_expires_at=access_expires_at,
            generation=generation + 1,
            refresh_claimed_until=None,
            needs_reauthorization=False,
            last_error=None,
            updated_at=now,
        )
    )
    return _rowcount(result) == 1


def release_claim(
    session: Session,
    app_id: str,
    generation: int,
    now: datetime,
    *,
    error: str | None = None,
    needs_reauthorization: bool = False,
) -> None:
    """Give the lease back after a failed refresh; the stored pair stays as it was."""
    _require_aware(now)
    values: dict[str, object] = {"refresh_claimed_until": None, "updated_at": now}
    if error is not None:
        values["last_error"] = error[:255]
    if needs_reauthorization:
        values["needs_reauthorization"] = True
    session.execute(
        update(OAToken)
        .where(col(OAToken.app_id) == app_id)
        .where(col(OAToken.generation) == generation)
        .values(**values)
    )
