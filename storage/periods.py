"""Reporting periods: "week", "2024-Q3", "2024-H1", "2024", "2024-03", "2024-01-01..2024-03-31".

A period is a range of calendar days in Vietnam's calendar; its moments are the local
midnights around it, so "the status at the end of 2024-Q3" means "the latest update before
00:00 on 1 October 2024" in the configured zone (app.timezone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kernel.clock import local_zone
from kernel.textnorm import fold

PERIOD_KINDS = ("week", "month", "quarter", "half", "year", "range")

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$|^q([1-4])[/-](\d{4})$")
_HALF = re.compile(r"^(\d{4})-?h([12])$|^h([12])[/-](\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?w(\d{1,2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")
_RELATIVE = {
    "week": "week",
    "tuan": "week",
    "month": "month",
    "thang": "month",
    "quarter": "quarter",
    "quy": "quarter",
    "half": "half",
    "year": "year",
    "nam": "year",
}


# Reports cover the years a plan can run; outside them a period is a typing error (or a
# probe: 0001-01-01..9999-12-31 would overflow the date arithmetic around the period).
MIN_YEAR = 2000
MAX_YEAR = 2100


class PeriodError(ValueError):
    """The text is not a period this module understands; ``text`` is what was given."""

    def __init__(self, text: str) -> None:
        super().__init__(f"unknown period: {text!r}")
        self.text = text


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # PERIOD_KINDS
    start: date
    end: date  # inclusive
    label: str  # canonical spelling: "2024-Q3", "2024-H1", "2024", "2024-W05", "a..b"

    @property
    def start_moment(self) -> datetime:
        """Local midnight at the start of the first day (aware)."""
        return datetime.combine(self.start, time(0), local_zone())

    @property
    def end_moment(self) -> datetime:
        """Local midnight after the last day (aware, exclusive)."""
        return datetime.combine(self.end + timedelta(days=1), time(0), local_zone())

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def year_period(year: int) -> Period:
    return Period("year", date(year, 1, 1), date(year, 12, 31), str(year))


def half_period(year: int, half: int) -> Period:
    if half == 1:
        return Period("half", date(year, 1, 1), date(year, 6, 30), f"{year}-H1")
    return Period("half", date(year, 7, 1), date(year, 12, 31), f"{year}-H2")


def quarter_period(year: int, quarter: int) -> Period:
    first_month = 3 * (quarter - 1) + 1
    start = date(year, first_month, 1)
    end = _month_end(year, first_month + 2)
    return Period("quarter", start, end, f"{year}-Q{quarter}")


def month_period(year: int, month: int) -> Period:
    return Period("month", date(year, month, 1), _month_end(year, month), f"{year}-{month:02d}")


def week_period(day: date) -> Period:
    """The ISO week (Monday..Sunday) holding ``day``."""
    start = day - timedelta(days=day.weekday())
    iso_year, iso_week, _ = start.isocalendar()
    return Period("week", start, start + timedelta(days=6), f"{iso_year}-W{iso_week:02d}")


def range_period(start: date, end: date) -> Period:
    if end < start:
        raise PeriodError(f"{start.isoformat()}..{end.isoformat()}")
    return Period("range", start, end, f"{start.isoformat()}..{end.isoformat()}")


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def current_period(kind: str, today: date) -> Period:
    """The week, month, quarter, half-year or year that holds ``today``."""
    if kind == "week":
        return week_period(today)
    if kind == "month":
        return month_period(today.year, today.month)
    if kind == "quarter":
        return quarter_period(today.year, (today.month - 1) // 3 + 1)
    if kind == "half":
        return half_period(today.year, 1 if today.month <= 6 else 2)
    if kind == "year":
        return year_period(today.year)
    raise PeriodError(kind)


def parse_period(text: str, today: date) -> Period:
    """A period from what an admin or coordinator types; ``today`` resolves "week" etc."""
    key = fold(text).replace(" ", "")
    if not key:
        raise PeriodError(text)
    try:
        period = _parse_folded(key, today)
    except ValueError as exc:  # date(2024, 13, 1), an ISO week 60, a PeriodError of a part
        raise PeriodError(text) from exc
    if period.start.year < MIN_YEAR or period.end.year > MAX_YEAR:
        raise PeriodError(text)
    return period


def _parse_folded(key: str, today: date) -> Period:
    if key in _RELATIVE:
        return current_period(_RELATIVE[key], today)
    if match := _YEAR.match(key):
        return year_period(int(match[1]))
    if match := _QUARTER.match(key):
        year, quarter = (match[1], match[2]) if match[1] else (match[4], match[3])
        return quarter_period(int(year), int(quarter))
    if match := _HALF.match(key):
        year, half = (match[1], match[2]) if match[1] else (match[4], match[3])
        return half_period(int(year), int(half))
    if match := _MONTH.match(key):
        return month_period(int(match[1]), int(match[2]))
    if match := _WEEK.match(key):
        return week_period(date.fromisocalendar(int(match[1]), int(match[2]), 1))
    if match := _RANGE.match(key):
        return range_period(date.fromisoformat(match[1]), date.fromisoformat(match[2]))
    raise PeriodError(key)


def previous_period(period: Period) -> Period:
    """The period of the same kind just before (a range: the same number of days before)."""
    before = period.start - timedelta(days=1)
    if period.kind == "range":
        return range_period(period.start - timedelta(days=period.days), before)
    if period.kind == "year":
        return year_period(before.year)
    return current_period(period.kind, before)
