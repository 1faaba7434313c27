"""What a chat locked out for guessing invite codes is told (the counting is storage.lockout)."""

from __future__ import annotations

from datetime import datetime

from handlers.context import HandlerContext
from kernel.dates import long_datetime
from kernel.i18n import _
from storage.lockout import LockoutPolicy


def lockout_policy(ctx: HandlerContext) -> LockoutPolicy:
    return ctx.settings.invite_lockout


def locked_out_text(until: datetime) -> str:
    return _(
        "Too many wrong invite codes were sent from this chat. Please try again after "
        "%(time)s, or ask the Department of Home Affairs (Sở Nội vụ) for help."
    ) % {"time": long_datetime(until)}
