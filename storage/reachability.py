"""Who the bot can no longer reach at all: officials every one of whose linked accounts the
platform refused (``ChannelIdentity.unreachable_at``, set on a 403 / "user blocked the bot"
by ``storage.outbox_rows``). Read-only: nothing here writes.

An official with no linked account is not in this list: they never registered, which the
invite sheets and ``papi-bot digest --send`` already name. One reachable account is enough
to take them off it: messages go there (``bot.routing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import ChannelIdentity, Official, Unit


@dataclass(frozen=True, slots=True)
class Unreachable:
    official_id: int
    name: str
    unit_name: str
    since: datetime  # when the last of their accounts became unreachable
    channels: int  # how many accounts they have linked (all unreachable)


def unreachable_everywhere(session: Session, unit_path: str) -> list[Unreachable]:
    """Active officials of the subtree at ``unit_path`` ("/1/7/") who have at least one
    linked account and none that is reachable, by unit then name."""
    linked = func.count(col(ChannelIdentity.id))
    refused = func.count(col(ChannelIdentity.unreachable_at))  # COUNT skips NULLs
    rows = session.exec(
        select(Official, Unit.name, func.max(col(ChannelIdentity.unreachable_at)), linked)
        .join(ChannelIdentity, col(ChannelIdentity.official_id) == col(Official.id))
        .join(Unit, col(Unit.id) == col(Official.unit_id))
        .where(col(Unit.path).startswith(unit_path), col(Official.active).is_(True))
        .group_by(col(Official.id), col(Unit.id))
        .having(linked == refused)
        .order_by(col(Unit.path), col(Official.name), col(Official.id))
    ).all()
    return [
        Unreachable(official.id or 0, official.name, unit_name, since, channels)
        for official, unit_name, since, channels in rows
        if since is not None
    ]
