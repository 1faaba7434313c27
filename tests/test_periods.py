"""Periods as admins and coordinators type them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from kernel.clock import VN_TZ
from storage.periods import Period, PeriodError, parse_period, previous_period

TODAY = date(2024, 8, 15)  # a Thursday in Q3


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2024-Q3", date(2024, 7, 1), date(2024, 9, 30), "2024-Q3"),
        ("q1/2024", date(2024, 1, 1), date(2024, 3, 31), "2024-Q1"),
        ("2024-H1", date(2024, 1, 1), date(2024, 6, 30), "2024-H1"),
        ("H2/2024", date(2024, 7, 1), date(2024, 12, 31), "2024-H2"),
        ("2024", date(2024, 1, 1), date(2024, 12, 31), "2024"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        ("2024-W01", date(2024, 1, 1), date(2024, 1, 7), "2024-W01"),
        ("week", date(2024, 8, 12), date(2024, 8, 18), "2024-W33"),
        ("Tuần", date(2024, 8, 12), date(2024, 8, 18), "2024-W33"),
        ("quý", date(2024, 7, 1), date(2024, 9, 30), "2024-Q3"),
        ("năm", date(2024, 1, 1), date(2024, 12, 31), "2024"),
        (
            "2024-01-01..2024-03-31",
            date(2024, 1, 1),
            date(2024, 3, 31),
            "2024-01-01..2024-03-31",
        ),
    ],
)
def test_parse(text: str, start: date, end: date, label: str) -> None:
    period = parse_period(text, TODAY)
    assert (period.start, period.end, period.label) == (start, end, label)


@pytest.mark.parametrize(
    "text", ["", "2024-Q5", "2024-13", "2024-H3", "soon", "2024-03-31..2024-01-01", "2024-W60"]
)
def test_bad_input_is_refused_with_the_text(text: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text, TODAY)
    assert caught.value.text == text


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2024-Q1", "2023-Q4"),
        ("2024-Q3", "2024-Q2"),
        ("2024-H1", "2023-H2"),
        ("2024", "2023"),
        ("2024-01", "2023-12"),
        ("2024-W01", "2023-W52"),
        ("2024-03-01..2024-03-10", "2024-02-20..2024-02-29"),
    ],
)
def test_previous(text: str, previous: str) -> None:
    assert previous_period(parse_period(text, TODAY)).label == previous


def test_moments_are_vietnam_midnights() -> None:
    period: Period = parse_period("2024-Q3", TODAY)
    assert period.start_moment == datetime(2024, 7, 1, tzinfo=VN_TZ)
    assert period.end_moment == datetime(2024, 10, 1, tzinfo=VN_TZ)
    assert period.days == 92
