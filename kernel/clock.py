"""The one source of "now", injectable so tests can drive a whole quarter in seconds, and the
one local time zone (``app.timezone``) every floor uses for dates, periods and schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the default of app.timezone

# Set once from the settings (bot.config.load_settings) before anything reads a date; a
# process serves one province, so one zone. Read through local_zone(), never cached.
_local_zone: ZoneInfo = VN_TZ


def local_zone() -> ZoneInfo:
    """The configured zone (app.timezone): local dates, period bounds, "today"."""
    return _local_zone


def set_local_zone(zone: ZoneInfo) -> None:
    global _local_zone
    _local_zone = zone


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests: stands still until moved."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self._now += delta
