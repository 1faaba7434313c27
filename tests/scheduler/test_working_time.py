from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.config import QuietHoursConfig
from bot.scheduler.working_time import WorkingTime, is_public_holiday
from kernel.clock import VN_TZ
from tests.scheduler.world import vn

WORKING = WorkingTime(QuietHoursConfig(), VN_TZ)


@pytest.mark.parametrize(
    ("moment", "sendable"),
    [
        (vn(2026, 6, 22, 9), True),  # Monday morning
        (vn(2026, 6, 22, 7), True),  # quiet hours end at 07:00
        (vn(2026, 6, 22, 6, 59), False),
        (vn(2026, 6, 22, 20, 59), True),
        (vn(2026, 6, 22, 21), False),  # quiet hours start at 21:00
        (vn(2026, 6, 27, 10), False),  # Saturday
        (vn(2026, 6, 28, 10), False),  # Sunday
        (vn(2026, 2, 17, 10), False),  # Tết 2026 (Tuesday)
        (vn(2026, 9, 2, 10), False),  # National Day
        (vn(2026, 8, 31, 10), False),  # substituted day off before National Day
    ],
)
def test_sendable(moment: datetime, sendable: bool) -> None:
    assert WORKING.is_sendable(moment) is sendable


def test_utc_moment_is_judged_in_vietnam_time() -> None:
    assert WORKING.is_sendable(datetime(2026, 6, 22, 1, tzinfo=UTC))  # 08:00 in Hanoi
    assert not WORKING.is_sendable(datetime(2026, 6, 22, 15, tzinfo=UTC))  # 22:00 in Hanoi


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(2026, 6, 22, 9, 15), vn(2026, 6, 22, 9, 15)),  # already fine
        (vn(2026, 6, 22, 6), vn(2026, 6, 22, 8)),  # early morning: send_at the same day
        (vn(2026, 6, 22, 22), vn(2026, 6, 23, 8)),  # late evening: next morning
        (vn(2026, 6, 26, 21, 30), vn(2026, 6, 29, 8)),  # Friday night: Monday
        (vn(2026, 2, 14, 10), vn(2026, 2, 23, 8)),  # weekend then Tết (16–20/2): 23/2
        (vn(2027, 2, 3, 22), vn(2027, 2, 11, 8)),  # Tết 2027 starts on 29 Tết (4/2)
        (vn(2026, 8, 29, 9), vn(2026, 9, 3, 8)),  # weekend + 31/8, 1/9, 2/9 off
    ],
)
def test_next_send_moment(moment: datetime, expected: datetime) -> None:
    assert WORKING.next_send_moment(moment) == expected


def test_tet_days_are_public_holidays() -> None:
    assert all(is_public_holiday(date(2026, 2, d)) for d in range(16, 21))
    assert not is_public_holiday(date(2026, 2, 23))


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        WORKING.next_send_moment(datetime(2026, 6, 22, 9))


def test_weekends_and_holidays_can_be_allowed() -> None:
    relaxed = WorkingTime(QuietHoursConfig(skip_weekends=False, skip_public_holidays=False), VN_TZ)
    assert relaxed.is_sendable(vn(2026, 6, 27, 10))
    assert relaxed.is_sendable(vn(2026, 2, 17, 10))


def test_daytime_quiet_window() -> None:
    lunch = WorkingTime(QuietHoursConfig(start=time(11, 30), end=time(13, 30)), VN_TZ)
    assert not lunch.is_sendable(vn(2026, 6, 22, 12))
    assert lunch.is_sendable(vn(2026, 6, 22, 22))


def test_day_moment_moves_a_weekend_day_to_monday_send_time() -> None:
    assert WORKING.day_moment(date(2026, 6, 27)) == vn(2026, 6, 29, 8)
    assert WORKING.day_moment(date(2026, 6, 24)) == vn(2026, 6, 24, 8)
