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
from storage.lockout import LockoutPolicy
from storage.models import ChannelIdentity, Official


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    default_locale: str = "vi"  # for strangers; an official has their own
    timezone: str = "Asia/Ho_Chi_Minh"  # what "today" means (deadlines, overdue)
    silence_days: int = 21  # [reminders] silence_days: a task with no news is "silent"
    report_deadlines: tuple[str, ...] = ("03-20", "06-20", "11-30")  # "MM-DD", default calendar
    invite_lockout: LockoutPolicy = field(default_factory=LockoutPolicy)  # [invites] lockout


@dataclass
class HandlerContext:
    session: Session  # the one transaction the inbound is applied in; handlers never commit
    settings: ConversationSettings
    now: datetime  # aware; from the injected clock
    inbound: Inbound
    identity: ChannelIdentity | None = None  # None: this chat is not linked to an official
    official: Official | None = None
    # The text limit the inbound's channel declares (bot.channels.registry); None: none
    # given, the outbox splits long texts for each channel anyway.
    text_limit: int | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.settings.timezone)).date()
