"""The reads behind "which bot serves this unit" and "is this bot full": a unit named in the
configuration (by code, or by name as in the units table), the nearest bound ancestor of a
unit, and how many people a channel already serves. Read-only: nothing here writes.

A channel's users are its linked identities of active officials: deactivating an official
frees the seat (the platform's own count is not published; REFERENCE.md marks the 50-user
limit unconfirmed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from sqlmodel import Session, col, func, select

from kernel.textnorm import fold, nfc
from storage.models import ChannelIdentity, Official, Role, Unit

T = TypeVar("T")


class AmbiguousUnit(LookupError):
    """Several units have this name: the configuration must give the code."""


def find_unit(session: Session, ref: str) -> Unit | None:
    """The unit whose code is ``ref``, else the one unit whose name folds to the same text;
    None when there is none; ``AmbiguousUnit`` when several share the name."""
    text = nfc(ref)
    by_code = session.exec(select(Unit).where(Unit.code == text)).first()
    if by_code is not None:
        return by_code
    named = list(session.exec(select(Unit).where(Unit.name_folded == fold(text)).limit(2)))
    if len(named) > 1:
        raise AmbiguousUnit(ref)
    return named[0] if named else None


def ancestor_ids(unit: Unit) -> list[int]:
    """The unit's own id and every ancestor's, nearest first (from the materialised path)."""
    return [int(part) for part in reversed(unit.path.strip("/").split("/")) if part]


def nearest_bound(unit: Unit, bound: Mapping[int, T]) -> T | None:
    """The value ``bound`` gives the nearest of the unit and its ancestors (unit id → value)."""
    for unit_id in ancestor_ids(unit):
        if unit_id in bound:
            return bound[unit_id]
    return None


def users_of(session: Session, channel: str) -> int:
    """How many active officials are linked on ``channel``."""
    query = (
        select(func.count())
        .select_from(ChannelIdentity)
        .join(Official, col(Official.id) == col(ChannelIdentity.official_id))
        .where(ChannelIdentity.channel == channel, col(Official.active).is_(True))
    )
    return int(session.exec(query).one())


def users_by_channel(session: Session, channels: Iterable[str]) -> dict[str, int]:
    return {channel: users_of(session, channel) for channel in channels}


def overseers(session: Session) -> list[Official]:
    """The active coordinators and admins (few): who hears about a full bot."""
    return list(
        session.exec(
            select(Official)
            .where(col(Official.role).in_((Role.COORDINATOR, Role.ADMIN)))
            .where(col(Official.active).is_(True))
            .order_by(col(Official.id))
        )
    )
