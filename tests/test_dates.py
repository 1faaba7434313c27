"""How a sentence names a day and a time: the Vietnamese way, in the current locale."""

from __future__ import annotations

from datetime import UTC, date, datetime

from handlers.lockout import locked_out_text
from kernel.dates import long_date, long_datetime, short_date
from kernel.i18n import use_locale

MORNING = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)  # 14:30 in Hà Nội


def test_a_day_in_a_sentence_follows_the_current_locale() -> None:
    with use_locale("vi"):
        assert long_date(date(2027, 3, 20)) == "ngày 20 tháng 3 năm 2027"
    with use_locale("en"):
        assert long_date(date(2027, 3, 20)) == "March 20, 2027"
    with use_locale("en"):  # an explicit locale wins over the current one
        assert long_date(date(2026, 11, 22), "vi") == "ngày 22 tháng 11 năm 2026"


def test_a_time_in_a_sentence_is_local() -> None:
    with use_locale("vi"):
        assert long_datetime(MORNING) == "14:30 ngày 6 tháng 12 năm 2026"
    with use_locale("en"):
        assert long_datetime(MORNING) == "December 6, 2026, 14:30"


def test_a_table_cell_keeps_the_plans_compact_form() -> None:
    assert short_date(date(2027, 3, 5)) == "05/03/2027"


def test_the_lockout_names_its_end_in_words() -> None:
    with use_locale("vi"):
        assert "14:30 ngày 6 tháng 12 năm 2026" in locked_out_text(MORNING)
    with use_locale("en"):
        assert "December 6, 2026, 14:30" in locked_out_text(MORNING)
