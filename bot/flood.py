"""The flood guard: one chat sending hundreds of messages must not stall everyone else.

``bot.pipeline.apply_inbound`` asks ``hold`` before the conversation runs, in the inbound's
own transaction (the update is already recorded as processed, so a dropped message is never
redelivered, and everything still commits once). ``hold`` answers None (go on) or the
messages to send instead, possibly none (dropped: recorded, not answered). Rules, in order:

1. A stranger (an unlinked chat) gets ``stranger_answers_per_minute`` answers a minute to
   anything that is not a registration attempt (``/start CODE`` or a bare invite code); the
   rest is dropped silently, so 200 "hello"s cost 200 short transactions and ~1 message.
2. Any sender past ``messages_per_minute`` within a minute (registration attempts included)
   is told once to slow down; their further messages of that minute are not answered. A
   stale menu number, answered before the pipeline (``bot.channels.menu.resolve``), counts
   too, and past the limit it is not answered.
3. ``/baocao`` (files rendered after the commit) is allowed ``reports_per_hour`` times per
   official within the last hour, counted on the report jobs; past it, a clear refusal.

The counts live in the database (``storage/flood.py``: several worker processes agree, a
restart resets nothing). A drop is logged at INFO with the channel and the rule only: no
user id, no phone number, no message text. Why here, at the edge, and not in the handlers:
it protects the process (the outbox, the report worker), not the conversation, and it must
run before any handler spends work on the message.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.config import FloodConfig
from handlers.context import HandlerContext
from handlers.types import Inbound, Outbound
from kernel.dates import local
from kernel.i18n import _, use_locale
from storage.flood import MESSAGE, STRANGER, count_message, reports_since
from storage.invites import looks_like_invite_code

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
REPORT_COMMANDS = frozenset({"baocao", "report"})  # handlers.router: the files report


def _command(text: str) -> tuple[str, str] | None:
    """('baocao', 'args') for '/baocao@papi_bot args': the router's own reading of it."""
    from handlers.router import split_command  # the router imports every handler module

    return split_command(text)


def registration_attempt(inbound: Inbound) -> bool:
    """What a stranger sends to link their chat: '/start CODE' or the code alone."""
    if inbound.payload:
        return False
    text = (inbound.text or "").strip()
    command = _command(text)
    if command is not None:
        return command[0] == "start" and bool(command[1])
    return looks_like_invite_code(text)


def _clock_time(moment: datetime, *, seconds: bool = False) -> str:
    """'10:32' (or '10:31:05'): the local time by which ``moment`` has passed, rounded up,
    so "after 10:32" is always true. A one-minute window needs its seconds."""
    moment = local(moment)
    step = timedelta(seconds=1) if seconds else MINUTE
    exact = moment.replace(microsecond=0) if seconds else moment.replace(second=0, microsecond=0)
    if exact != moment:
        exact += step
    return exact.strftime("%H:%M:%S" if seconds else "%H:%M")


def _held(inbound: Inbound, rule: str) -> None:
    log.info("flood: a %s message was held back (%s)", inbound.channel, rule)


def hold(ctx: HandlerContext, config: FloodConfig) -> list[Outbound] | None:
    """None: answer the message as usual. Else what to send instead (maybe nothing)."""
    if not config.enabled:
        return None
    inbound, session, now = ctx.inbound, ctx.session, ctx.now
    sender = (inbound.channel, inbound.external_user_id)
    overall = count_message(
        session, *sender, MESSAGE, now, limit=config.messages_per_minute, window=MINUTE
    )
    if ctx.official is None and not registration_attempt(inbound):
        answered = count_message(
            session, *sender, STRANGER, now, limit=config.stranger_answers_per_minute, window=MINUTE
        )
        if answered.over:
            _held(inbound, "stranger, over the answers a minute")
            return []
        return None
    locale = ctx.official.locale if ctx.official else ctx.settings.default_locale
    if overall.over:
        _held(inbound, "over the messages a minute")
        if not overall.notify:
            return []
        with use_locale(locale):
            text = _(
                "You are sending messages faster than I can answer. Messages until %(time)s "
                "will not be answered; please wait, then send again."
            ) % {"time": _clock_time(overall.ends_at, seconds=True)}
        return [Outbound(text)]
    if ctx.official is not None and ctx.official.id is not None:
        command = _command((inbound.text or "").strip()) if not inbound.payload else None
        if command is not None and command[0] in REPORT_COMMANDS:
            asked = reports_since(session, ctx.official.id, now - HOUR)
            if len(asked) >= config.reports_per_hour:
                _held(inbound, "over the reports an hour")
                again = asked[len(asked) - config.reports_per_hour] + HOUR
                with use_locale(locale):
                    text = _(
                        "You have asked for the most reports allowed in one hour "
                        "(%(limit)d). You can ask again after %(time)s."
                    ) % {"limit": config.reports_per_hour, "time": _clock_time(again)}
                return [Outbound(text)]
    return None
