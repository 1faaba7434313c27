"""What a handler gets: the open transaction, the settings it needs, the time, who is talking.

``ConversationSettings`` is the small part of the configuration the conversation reads; the
edge (``bot.pipeline``) builds it from ``bot.config.Settings``, so no secret (bot tokens,
webhook secrets) and no channel or database setting ever reaches a handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.types import Inbound
from storage.identities import Link
from storage.lockout import LockoutPolicy
from storage.person import Person


@dataclass(frozen=True, slots=True)
class Seat:
    """A running channel that serves a limited number of people (one Zalo bot), maybe bound to
    a unit subtree. The seats of one ``family`` (one platform) share that platform's officials:
    each belongs on the seat bound to their nearest ancestor unit, else on the family's unbound
    seat (``handlers.seats``). Built by the edge from the channel registry."""

    channel: str  # "zalo", "zalo:xa-a"
    family: str  # "zalo"
    label: str  # what the person looks for in the app (the bot's display name)
    link: str = ""
    unit: str | None = None  # a unit code or name as configured; None: bound to no unit
    max_users: int | None = None  # None: no limit


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    default_locale: str = "vi"  # for strangers; an official has their own
    timezone: str = "Asia/Ho_Chi_Minh"  # what "today" means (deadlines, overdue)
    silence_days: int = 21  # [reminders] silence_days: a task with no news is "silent"
    report_deadlines: tuple[str, ...] = ("03-20", "06-20", "11-30")  # "MM-DD", default calendar
    invite_lockout: LockoutPolicy = field(default_factory=LockoutPolicy)  # [invites] lockout
    seats: tuple[Seat, ...] = ()  # the running bots with a user limit or a unit binding


@dataclass
class HandlerContext:
    session: Session  # the one transaction the inbound is applied in; handlers never commit
    settings: ConversationSettings
    now: datetime  # aware; from the injected clock
    inbound: Inbound
    identity: Link | None = None  # None: this chat is not linked to an official
    official: Person | None = None  # plain values: changes go through storage's writers
    # The text limit the inbound's channel declares (bot.channels.registry); None: none
    # given, the outbox splits long texts for each channel anyway.
    text_limit: int | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.settings.timezone)).date()
