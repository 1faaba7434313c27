"""What a chat locked out for guessing invite codes is told (the counting is storage.lockout)."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.context import HandlerContext
from kernel.dates import short_datetime
from kernel.i18n import _, current_locale
from storage.lockout import LockoutPolicy


def lockout_policy(ctx: HandlerContext) -> LockoutPolicy:
    invites = ctx.settings.invites
    return LockoutPolicy(
        max_failures=invites.max_wrong_codes,
        window=timedelta(minutes=invites.wrong_code_window_minutes),
        lockout=timedelta(minutes=invites.lockout_minutes),
    )


def locked_out_text(until: datetime) -> str:
    return _(
        "Too many wrong invite codes were sent from this chat. Please try again after "
        "%(time)s, or ask the Department of Home Affairs (Sở Nội vụ) for help."
    ) % {"time": short_datetime(until, current_locale())}
