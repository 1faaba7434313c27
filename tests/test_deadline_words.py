from datetime import date

from handlers.deadlines import deadline_words, next_report_deadline
from kernel.i18n import use_locale

TODAY = date(2024, 9, 18)


def test_dated_task_in_vietnamese() -> None:
    with use_locale("vi"):
        assert deadline_words("date", date(2024, 9, 30), "Quý III/2024", TODAY) == (
            "hạn ngày 30 tháng 9 năm 2024, còn 12 ngày"
        )
        assert deadline_words("date", date(2024, 9, 15), "", TODAY) == (
            "hạn ngày 15 tháng 9 năm 2024, quá hạn 3 ngày"
        )
        assert deadline_words("date", TODAY, "", TODAY) == "hạn hôm nay, ngày 18 tháng 9 năm 2024"


def test_dated_task_in_english_uses_plurals() -> None:
    with use_locale("en"):
        assert (
            deadline_words("date", date(2024, 9, 19), "", TODAY)
            == "due September 19, 2024, 1 day left"
        )
        assert (
            deadline_words("date", date(2024, 9, 30), "", TODAY)
            == "due September 30, 2024, 12 days left"
        )


def test_recurring_task_names_the_next_report_date() -> None:
    calendar = ["03-20", "06-20", "11-30"]
    with use_locale("vi"):
        assert deadline_words("recurring", None, "Thường xuyên", date(2024, 6, 1), calendar) == (
            "thường xuyên — báo cáo trước ngày 20 tháng 6 năm 2024"
        )


def test_next_report_deadline_rolls_into_next_year() -> None:
    assert next_report_deadline(["03-20", "11-30"], date(2024, 12, 1)) == date(2025, 3, 20)
    assert next_report_deadline(["06-20"], date(2024, 6, 20)) == date(2024, 6, 20)
    assert next_report_deadline([], TODAY) is None


def test_term_and_unknown() -> None:
    with use_locale("vi"):
        assert deadline_words("term", None, "Theo nhiệm kỳ", TODAY) == "theo nhiệm kỳ"
        assert deadline_words("unknown", None, "Khi có yêu cầu", TODAY) == (
            "thời hạn: Khi có yêu cầu"
        )
