"""The channels with a user limit or a unit binding (the Zalo bots), as the conversation sees
them: ``Seat``s in ``ConversationSettings`` (no channel import below ``bot/``), and the two
edge uses — the start-up check of ``[[zalo.bots]]`` units, and the line of an invite that
tells an official which bot to write to.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.channels.base import StartupError
from bot.channels.registry import ChannelRegistry, default_registry
from bot.config import Settings
from handlers.context import Seat
from handlers.seats import seat_for_official, seat_name
from kernel.i18n import _
from storage.models import Official
from storage.seats import AmbiguousUnit, find_unit

ZALO = "zalo"


def channel_seats(settings: Settings, registry: ChannelRegistry | None = None) -> tuple[Seat, ...]:
    """A ``Seat`` for every enabled channel that declares a user limit or is bound to a unit."""
    registry = registry or default_registry(settings)
    seats = []
    for kind in registry.enabled(settings):
        caps = kind.capabilities(settings)
        if caps.max_users is None and kind.unit is None:
            continue
        label = kind.label or kind.name
        seats.append(Seat(kind.name, kind.family, label, kind.link, kind.unit, caps.max_users))
    return tuple(seats)


def check_units(session: Session, settings: Settings) -> None:
    """Every bound bot's unit exists, is named unambiguously, and has one bot: else a
    ``StartupError`` naming each bad entry (checked whether or not the bot's token is set)."""
    problems = []
    seen: dict[int, str] = {}
    for kind in default_registry(settings).kinds():
        if kind.unit is None:
            continue
        try:
            unit = find_unit(session, kind.unit)
        except AmbiguousUnit:
            problems.append(
                _("%(bot)s: several units are named %(unit)r; give the unit's code")
                % {"bot": kind.name, "unit": kind.unit}
            )
            continue
        if unit is None or unit.id is None:
            problems.append(
                _("%(bot)s: no unit has the code or name %(unit)r (see papi-bot units list)")
                % {"bot": kind.name, "unit": kind.unit}
            )
        elif unit.id in seen:
            problems.append(
                _("%(bot)s: %(unit)s is already bound to %(other)s")
                % {"bot": kind.name, "unit": unit.name, "other": seen[unit.id]}
            )
        else:
            seen[unit.id] = kind.name
    if problems:
        raise StartupError(_("[[zalo.bots]]: %(problems)s") % {"problems": "; ".join(problems)})


def zalo_invite_line(session: Session, settings: Settings, official: Official) -> str | None:
    """ "Zalo: write to the bot “…”" for an invite, or None when no Zalo bot runs."""
    seat = seat_for_official(session, channel_seats(settings), ZALO, official)
    if seat is None:
        return None
    return _("Zalo: send the code to the bot %(bot)s") % {"bot": seat_name(seat)}
