"""What a handler gets: the open transaction, the settings, the time, and who is talking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot.config import Settings
from handlers.types import Inbound
from kernel.dates import today_local
from storage.models import ChannelIdentity, Official


@dataclass
class HandlerContext:
    session: Session  # the one transaction the inbound is applied in; handlers never commit
    settings: Settings
    now: datetime  # aware; from the injected clock
    inbound: Inbound
    identity: ChannelIdentity | None = None  # None: this chat is not linked to an official
    official: Official | None = None
    # The text limit the inbound's channel declares (bot.channels.registry); None: none
    # given, the outbox splits long texts for each channel anyway.
    text_limit: int | None = None

    @property
    def today(self) -> date:
        return today_local(self.now)
