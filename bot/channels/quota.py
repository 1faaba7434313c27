"""Monthly quotas of the channels that declare one (``Capabilities.monthly_quota``): how much
of this month's quota each has used, for the coordinator's digest. Channel-neutral: the
quota is a declaration of the channel, the count comes from the outbox rows.

Each Zalo bot is a channel of its own ("zalo", "zalo:<name>": ``[[zalo.bots]]``), so each is
counted against its own quota, and its users against its own limit (``max_users``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlmodel import Session

from bot.channels.registry import ChannelRegistry, default_registry
from bot.config import Settings
from kernel.clock import local_zone
from kernel.dates import today_local
from storage.channel_usage import sent_since
from storage.seats import users_of


@dataclass(frozen=True, slots=True)
class QuotaUse:
    channel: str
    sent: int
    quota: int

    warn_percent: int = 80

    @property
    def share(self) -> float:
        return self.sent / self.quota if self.quota else 1.0

    @property
    def warn(self) -> bool:
        return self.sent * 100 >= self.quota * self.warn_percent


def month_start(now: datetime) -> datetime:
    """The first moment of ``now``'s month in the configured zone."""
    return datetime.combine(today_local(now).replace(day=1), time.min, tzinfo=local_zone())


def quota_usage(
    session: Session, settings: Settings, now: datetime, registry: ChannelRegistry | None = None
) -> list[QuotaUse]:
    """This month's use of every channel that declares a quota and is configured here or
    sent something this month (the console may run apart from the bot, without its secrets);
    each bound Zalo bot is a channel of its own."""
    registry = registry or default_registry(settings)
    enabled = {kind.name for kind in registry.enabled(settings)}
    enabled |= {kind.name for kind in registry.declared_but_missing(settings)}
    usage = []
    for name in registry.names():
        caps = registry.capabilities(name, settings)
        if caps.monthly_quota is None:
            continue
        sent = sent_since(session, name, month_start(now))
        if sent or name in enabled:
            usage.append(QuotaUse(name, sent, caps.monthly_quota, caps.quota_warn_percent))
    return usage


def quota_warnings(
    session: Session, settings: Settings, now: datetime, registry: ChannelRegistry | None = None
) -> list[QuotaUse]:
    """The channels that used at least their warning share of this month's quota."""
    return [use for use in quota_usage(session, settings, now, registry) if use.warn]


def seat_warnings(
    session: Session, settings: Settings, registry: ChannelRegistry | None = None
) -> list[QuotaUse]:
    """The channels whose linked users reached the warning share of their user limit
    (``sent`` is then the number of users, ``quota`` the limit)."""
    registry = registry or default_registry(settings)
    warnings = []
    for name in registry.names():
        caps = registry.capabilities(name, settings)
        if caps.max_users is None:
            continue
        users = users_of(session, name)
        if users and users * 100 >= caps.max_users * caps.quota_warn_percent:
            warnings.append(QuotaUse(name, users, caps.max_users))
    return warnings
