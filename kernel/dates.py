"""Dates the Vietnamese way (Babel ``vi``), in the configured zone (app.timezone)."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime

from kernel.clock import local_zone
from kernel.i18n import current_locale


def local(moment: datetime) -> datetime:
    """The moment in the configured zone (Asia/Ho_Chi_Minh by default)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: store and pass aware datetimes only")
    return moment.astimezone(local_zone())


def today_local(moment: datetime) -> date:
    return local(moment).date()


def long_date(day: date, locale: str | None = None) -> str:
    """'ngày 22 tháng 11 năm 2026' in Vietnamese, 'November 22, 2026' in English: how a
    sentence names a day. ``locale`` defaults to the current one (``kernel.i18n``)."""
    locale = locale or current_locale()
    if locale == "vi":
        # Babel's vi "long" is "22 tháng 11, 2026"; documents and officials write it out.
        return format_date(day, "'ngày' d 'tháng' M 'năm' y", locale="vi")
    return format_date(day, format="long", locale=locale)


def document_date(day: date) -> str:
    """The place-and-date line of a report: day below 10 and months 1–2 zero-padded."""
    month = "MM" if day.month <= 2 else "M"
    return format_date(day, f"'ngày' dd 'tháng' {month} 'năm' y", locale="vi")


def short_date(day: date) -> str:
    """'30/09/2024': how plans write a date in a table cell (reports, the web console's
    tables); a sentence a user reads says ``long_date``."""
    return day.strftime("%d/%m/%Y")


def short_datetime(moment: datetime, locale: str = "vi") -> str:
    """'06/12/2026 14:30': a time stamp in a list or a table cell."""
    return format_datetime(local(moment), format="dd/MM/yyyy HH:mm", locale=locale)


def long_datetime(moment: datetime, locale: str | None = None) -> str:
    """'14:30 ngày 6 tháng 12 năm 2026', 'December 6, 2026, 14:30': a time in a sentence."""
    locale = locale or current_locale()
    if locale == "vi":
        return format_datetime(local(moment), "HH:mm 'ngày' d 'tháng' M 'năm' y", locale="vi")
    return format_datetime(local(moment), "MMMM d, y, HH:mm", locale=locale)
