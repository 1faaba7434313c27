"""When the bot may write to people: not in quiet hours, not at weekends, not on holidays.

Vietnamese public holidays come from ``holidays.Vietnam`` (Tết, Hùng Kings, 30/4, 1/5, 2/9
and the observed / substituted days). Whatever falls outside working time goes at
``send_at`` (08:00) on the next working day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from bot.config import QuietHoursConfig

# Tết plus weekends never spans more than ~16 days; past this something is misconfigured.
_MAX_SKIP_DAYS = 60


@cache
def _holidays_of(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_public_holiday(day: date) -> bool:
    return day in _holidays_of(day.year)


class WorkingTime:
    """Answers "may we send now?" and "when may we send next?" in the configured zone."""

    def __init__(self, quiet: QuietHoursConfig, tz: ZoneInfo) -> None:
        self.quiet = quiet
        self.tz = tz

    def is_working_day(self, day: date) -> bool:
        if self.quiet.skip_weekends and day.weekday() >= 5:
            return False
        return not (self.quiet.skip_public_holidays and is_public_holiday(day))

    def _in_quiet_hours(self, clock_time: time) -> bool:
        start, end = self.quiet.start, self.quiet.end
        if start == end:
            return False
        if start < end:  # e.g. 12:00-13:00
            return start <= clock_time < end
        return clock_time >= start or clock_time < end  # across midnight: 21:00-07:00

    def is_sendable(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return self.is_working_day(local.date()) and not self._in_quiet_hours(local.time())

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        for offset in range(_MAX_SKIP_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_MAX_SKIP_DAYS} days of {day}")

    def at_send_time(self, day: date) -> datetime:
        return datetime.combine(day, self.quiet.send_at, self.tz)

    def next_send_moment(self, moment: datetime) -> datetime:
        """``moment`` if it is sendable, else ``send_at`` on the next working day (today's,
        when it is a working day and ``send_at`` is still ahead)."""
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass an aware moment")
        if self.is_sendable(moment):
            return moment
        local = moment.astimezone(self.tz)
        today_send = self.at_send_time(local.date())
        if self.is_working_day(local.date()) and local < today_send:
            return today_send
        return self.at_send_time(self.next_working_day(local.date() + timedelta(days=1)))

    def day_moment(self, day: date) -> datetime:
        """When something nominally due on ``day`` goes out: ``send_at`` that day, moved to
        the next working day when ``day`` is not one."""
        return self.at_send_time(self.next_working_day(day))
