"""Which bot an official belongs on, and what a valid code on the wrong or a full bot gets.

The free Zalo Bot plan serves about 50 people per bot, so a province runs several bots, each
bound to a unit subtree (``Seat``, built by the edge from ``[[zalo.bots]]``). An official
belongs on the seat bound to the nearest ancestor of their unit (their own unit included),
else on the family's unbound seat (the default bot), else anywhere.

Decided (docs/zalo.md): a valid code sent to the wrong bot is refused with the right bot's
name, and the code stays valid — accepting it would spend a seat of another commune's bot.
A code sent to a full bot is refused the same way, and the coordinators and admins over the
official's unit are told (once a day per person, however often they try). Neither counts
as a wrong code for the lockout. Someone already linked on this bot re-registering takes no
new seat.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session

from handlers.context import HandlerContext, Seat
from handlers.permissions import in_subtree, scope_root
from handlers.types import Outbound
from kernel.i18n import _, use_locale
from storage.flood import FULL_BOT, count_message
from storage.identities import find_identity
from storage.invites import InviteProblem, check_invite, looks_like_invite_code
from storage.models import Official, Unit
from storage.seats import AmbiguousUnit, find_unit, nearest_bound, overseers, users_of

log = logging.getLogger(__name__)


def seat_of(seats: tuple[Seat, ...], channel: str) -> Seat | None:
    return next((seat for seat in seats if seat.channel == channel), None)


def right_seat(session: Session, seats: tuple[Seat, ...], family: str, unit: Unit) -> Seat | None:
    """The seat of ``family`` the official of ``unit`` belongs on; None: any will do."""
    bound: dict[int, Seat] = {}
    for seat in seats:
        if seat.family != family or seat.unit is None:
            continue
        try:
            found = find_unit(session, seat.unit)
        except AmbiguousUnit:
            found = None  # refused at start-up (bot.channels.seats.check_units)
        if found is not None and found.id is not None:
            bound.setdefault(found.id, seat)
    nearest = nearest_bound(unit, bound)
    if nearest is not None:
        return nearest
    return next((s for s in seats if s.family == family and s.unit is None), None)


def seat_for_official(
    session: Session, seats: tuple[Seat, ...], family: str, official: Official
) -> Seat | None:
    unit = session.get(Unit, official.unit_id)
    return None if unit is None else right_seat(session, seats, family, unit)


def seat_name(seat: Seat) -> str:
    """The bot as a person finds it: its display name, and its link when one is configured."""
    return f"“{seat.label}” ({seat.link})" if seat.link else f"“{seat.label}”"


def seat_refusal(ctx: HandlerContext, code: str) -> list[Outbound] | None:
    """The answer when a valid code must not be redeemed on this channel (wrong or full
    bot), else None (go on with the code as usual, problems included)."""
    seat = seat_of(ctx.settings.seats, ctx.inbound.channel)
    if seat is None or not looks_like_invite_code(code):
        return None
    invite = check_invite(ctx.session, code, ctx.now)
    if isinstance(invite, InviteProblem):
        return None  # link() words it
    official = ctx.session.get(Official, invite.official_id)
    unit = ctx.session.get(Unit, official.unit_id) if official is not None else None
    if official is None or unit is None:
        return None
    right = right_seat(ctx.session, ctx.settings.seats, seat.family, unit)
    if right is not None and right.channel != seat.channel:
        with use_locale(official.locale):
            text = _(
                "Your account belongs to %(unit)s, which is served by another Zalo bot: "
                "%(bot)s. Please send this code to that bot instead; it is still valid."
            ) % {"unit": unit.name, "bot": seat_name(right)}
        return [Outbound(text)]
    if seat.max_users is None:
        return None
    if find_identity(ctx.session, seat.channel, ctx.inbound.external_user_id) is not None:
        return None  # already served here: no new seat
    users = users_of(ctx.session, seat.channel)
    if users < seat.max_users:
        return None
    log.warning(
        "%s is full (%d of %d users): a registration was refused",
        seat.channel,
        users,
        seat.max_users,
    )
    with use_locale(official.locale):
        text = _(
            "Sorry, this Zalo bot already serves %(max)d people, its limit, so your account "
            "cannot be linked here. The Department of Home Affairs (Sở Nội vụ) has been told "
            "and will tell you where to register. Your code is still valid."
        ) % {"max": seat.max_users}
    if not _first_refusal_today(ctx, seat):  # told already: one problem, not one per try
        return [Outbound(text)]
    return [Outbound(text), *full_notices(ctx.session, seat, official, unit, users)]


def _first_refusal_today(ctx: HandlerContext, seat: Seat) -> bool:
    """Whether this is the sender's first refusal by the full ``seat`` in a day (counted as
    the flood guard counts, in the database)."""
    counted = count_message(
        ctx.session,
        seat.channel,
        ctx.inbound.external_user_id,
        FULL_BOT,
        ctx.now,
        limit=1,
        window=timedelta(days=1),
    )
    return not counted.over


def full_notices(
    session: Session, seat: Seat, official: Official, unit: Unit, users: int
) -> list[Outbound]:
    """A notice to each coordinator and admin whose subtree holds the official's unit."""
    notices = []
    for reader in overseers(session):
        root = scope_root(session, reader)
        if root is None or not in_subtree(unit, root):
            continue
        with use_locale(reader.locale):
            text = _(
                "Zalo bot %(bot)s is full (%(users)d of %(max)d users): %(name)s (%(unit)s) "
                "could not register on it. Bind a bot to their unit ([[zalo.bots]] in the "
                "configuration), or deactivate officials who no longer use it."
            ) % {
                "bot": seat_name(seat),
                "users": users,
                "max": seat.max_users or 0,
                "name": official.name,
                "unit": unit.name,
            }
        notices.append(Outbound(text, official_id=reader.id, kind="notice"))
    return notices
