"""The plan's own text: report calendar, title, year."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.planimport import parse_plan
from bot.planimport.calendar import plan_title, plan_year, report_deadlines


def test_bac_giang_2021_report_calendar_from_ocr_text(seeds_dir: Path) -> None:
    text = (seeds_dir / "001_4fec8051db42b886.txt").read_text(encoding="utf-8")
    assert report_deadlines(text) == ["03-20", "06-20", "11-30"]


def test_bac_kan_2022_report_calendar(seeds_dir: Path) -> None:
    text = (seeds_dir / "004_d6a133a28596482b.txt").read_text(encoding="utf-8")
    assert report_deadlines(text) == ["12-12"]


@pytest.mark.parametrize("seed", ["000_6a26aac315758a40.txt", "002_f5198f269f250eb7.txt"])
def test_no_calendar_where_the_plan_names_none(seeds_dir: Path, seed: str) -> None:
    # 002 cites "Báo cáo số 85/BC-SNV ngày 04/4/2024": a document, not a report deadline.
    assert report_deadlines((seeds_dir / seed).read_text(encoding="utf-8")) == []


def test_report_sentence_forms() -> None:
    assert report_deadlines("Báo cáo quý gửi trước ngày 15/3; báo cáo năm trước ngày 15/11.") == [
        "03-15",
        "11-15",
    ]
    assert report_deadlines("Báo cáo số 12/BC-SNV ngày 04/4/2024 về kết quả") == []


def test_title_and_year() -> None:
    lines = [
        "KẾ HOẠCH",
        "",
        "Khắc phục hạn chế Chỉ số PAPI năm 2021, nâng cao năm 2022",
        "",
        "I. MỤC ĐÍCH",
    ]
    title = plan_title(lines)
    assert title == "Khắc phục hạn chế Chỉ số PAPI năm 2021, nâng cao năm 2022"
    assert plan_year(title, lines) == 2022
    assert plan_year(None, ["Bắc Kạn, ngày 3 tháng 5 năm 2023"]) == 2023
    assert plan_year(None, ["nothing here"]) is None


def test_a_plan_without_an_appendix_table_keeps_its_calendar(seeds_dir: Path) -> None:
    # Seed 001 has no table: its tasks come from the prose (tests/planimport/test_prose.py);
    # the report calendar is read from its text all the same.
    plan = parse_plan(seeds_dir / "001_4fec8051db42b886.txt")
    assert plan.report_deadlines == ["03-20", "06-20", "11-30"]
