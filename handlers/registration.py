"""Linking a chat to an official with a single-use invite code, and the one message a
stranger gets."""

from __future__ import annotations

from handlers.context import HandlerContext
from handlers.lockout import locked_out_text, lockout_policy
from handlers.seats import seat_refusal
from handlers.settings import help_text
from handlers.texts import my_tasks_button
from handlers.types import Outbound
from kernel.i18n import _, use_locale
from storage import lockout
from storage.identities import Account, Link
from storage.invites import InviteProblem, check_invite, looks_like_invite_code, redeem_invite
from storage.models import Official
from storage.person import Person


def problem_text(problem: InviteProblem) -> str:
    texts = {
        InviteProblem.UNKNOWN: _(
            "This code is not valid. Check it, or ask the Department of Home Affairs "
            "(Sở Nội vụ) for a new one."
        ),
        InviteProblem.USED: _(
            "This code has already been used. Ask the Department of Home Affairs "
            "(Sở Nội vụ) for a new one."
        ),
        InviteProblem.EXPIRED: _(
            "This code has expired. Ask the Department of Home Affairs (Sở Nội vụ) for a new one."
        ),
        InviteProblem.INACTIVE_OFFICIAL: _(
            "This code belongs to an account that is no longer active. "
            "Ask the Department of Home Affairs (Sở Nội vụ)."
        ),
    }
    return texts[problem]


def stranger() -> list[Outbound]:
    """The only thing an unregistered person is told."""
    return [
        Outbound(
            _(
                "Hello! This bot is for officials taking part in the PAPI improvement plan. "
                "To use it, send the invite code you received from the Department of Home "
                "Affairs (Sở Nội vụ), or open the invite link."
            )
        )
    ]


def register(ctx: HandlerContext, code: str) -> list[Outbound]:
    """:func:`link`, unless this chat sent too many wrong codes (storage.lockout)."""
    where = (ctx.inbound.channel, ctx.inbound.chat_id)
    until = lockout.locked_until(ctx.session, *where, ctx.now)
    if until is None:
        refused = seat_refusal(ctx, code)  # a valid code on the wrong or a full bot
        if refused is not None:
            return refused
        replies = link(ctx, code)
        if ctx.official is not None:
            lockout.clear_failures(ctx.session, *where)
            return replies
        until = lockout.record_failure(ctx.session, *where, ctx.now, lockout_policy(ctx))
        if until is None:
            return replies
    return [Outbound(locked_out_text(until))]


def link(ctx: HandlerContext, code: str) -> list[Outbound]:
    """Link this chat to the invite's official; any problem links nothing."""
    if not looks_like_invite_code(code):
        return [Outbound(problem_text(InviteProblem.UNKNOWN))]
    found = check_invite(ctx.session, code, ctx.now)
    if isinstance(found, InviteProblem):
        return [Outbound(problem_text(found))]
    official = ctx.session.get(Official, found.official_id)
    assert official is not None  # check_invite verified it
    inbound = ctx.inbound
    account = Account(
        inbound.channel, inbound.external_user_id, inbound.chat_id, inbound.display_name
    )
    identity = redeem_invite(ctx.session, found, account, ctx.now)
    if identity is None:  # another phone spent the code a moment ago
        return [Outbound(problem_text(InviteProblem.USED))]
    ctx.identity, ctx.official = Link.of(identity), Person.of(official)
    with use_locale(official.locale):
        welcome = _("Welcome, %(name)s! This chat is now linked to your account.") % {
            "name": official.name
        }
        return [
            Outbound("\n\n".join([welcome, help_text(official)]), buttons=((my_tasks_button(),),))
        ]
