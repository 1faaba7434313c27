"""Dates the Vietnamese way (Babel ``vi``), in the configured zone (app.timezone)."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime

from kernel.clock import local_zone


def local(moment: datetime) -> datetime:
    """The moment in the configured zone (Asia/Ho_Chi_Minh by default)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: store and pass aware datetimes only")
    return moment.astimezone(local_zone())


def today_local(moment: datetime) -> date:
    return local(moment).date()


def long_date(day: date, locale: str = "vi") -> str:
    """'ngày 22 tháng 11 năm 2026' in Vietnamese, 'November 22, 2026' in English."""
    if locale == "vi":
        # Babel's vi "long" is "22 tháng 11, 2026"; documents and officials write it out.
        return format_date(day, "'ngày' d 'tháng' M 'năm' y", locale="vi")
    return format_date(day, format="long", locale=locale)


def document_date(day: date) -> str:
    """The place-and-date line of a report: day below 10 and months 1–2 zero-padded."""
    month = "MM" if day.month <= 2 else "M"
    return format_date(day, f"'ngày' dd 'tháng' {month} 'năm' y", locale="vi")


def short_date(day: date) -> str:
    """'30/09/2024': how plans and officials write a date."""
    return day.strftime("%d/%m/%Y")


def short_datetime(moment: datetime, locale: str = "vi") -> str:
    return format_datetime(local(moment), format="dd/MM/yyyy HH:mm", locale=locale)
