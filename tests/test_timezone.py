"""app.timezone is the one zone of every floor: local dates, period bounds, the scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from kernel import clock
from kernel.dates import today_local
from storage.periods import parse_period

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def new_york(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "config.toml"
    path.write_text('[app]\ntimezone = "America/New_York"\n', encoding="utf-8")
    load_settings(path, env={})
    yield path
    clock.set_local_zone(clock.VN_TZ)


def test_the_default_zone_is_vietnam() -> None:
    load_settings(env={}, use_default_path=False)
    assert clock.local_zone() == ZoneInfo("Asia/Ho_Chi_Minh")
    # 20:00 UTC on 23 November is already the 24th in Hà Nội.
    assert today_local(datetime(2026, 11, 23, 20, tzinfo=UTC)) == date(2026, 11, 24)


@pytest.mark.usefixtures("new_york")
def test_local_dates_follow_the_setting() -> None:
    assert clock.local_zone() == NEW_YORK
    assert today_local(datetime(2026, 11, 23, 20, tzinfo=UTC)) == date(2026, 11, 23)


@pytest.mark.usefixtures("new_york")
def test_period_bounds_are_local_midnights_of_the_setting() -> None:
    quarter = parse_period("2026-Q3", date(2026, 12, 2))
    assert quarter.start_moment == datetime(2026, 7, 1, tzinfo=NEW_YORK)
    assert quarter.end_moment == datetime(2026, 10, 1, tzinfo=NEW_YORK)
    assert quarter.end_moment.astimezone(UTC) == datetime(2026, 10, 1, 4, tzinfo=UTC)
