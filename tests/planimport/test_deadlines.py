"""Deadline forms of the plans: kept raw, parsed, never guessed."""

from __future__ import annotations

from datetime import date

import pytest

from bot.planimport.deadlines import looks_like_deadline, parse_deadline


@pytest.mark.parametrize(
    ("raw", "year", "kind", "due", "note"),
    [
        ("Thường xuyên", 2024, "recurring", None, None),
        ("thuong xuyen", None, "recurring", None, None),
        ("Năm 2024", None, "date", date(2024, 12, 31), None),
        ("Quý III/2024", None, "date", date(2024, 9, 30), None),
        ("Quý II", 2024, "date", date(2024, 6, 30), None),
        ("Quý IV năm 2025", 2024, "date", date(2025, 12, 31), None),
        ("Quý 1/2026", None, "date", date(2026, 3, 31), None),
        (
            "Quý II; triển khai đánh giá trong năm 2024",
            None,
            "date",
            date(2024, 6, 30),
            "triển khai đánh giá trong năm 2024",
        ),
        ("Theo nhiệm kỳ", 2024, "term", None, None),
        ("trước ngày 30/12/2024", None, "date", date(2024, 12, 30), None),
        ("Tháng 9/2025", None, "date", date(2025, 9, 30), None),
        ("Tháng 2 năm 2024", None, "date", date(2024, 2, 29), None),
        ("6 tháng đầu năm 2025", None, "date", date(2025, 6, 30), None),
        ("6 tháng cuối năm", 2025, "date", date(2025, 12, 31), None),
        ("trước ngày 15/6", 2025, "date", date(2025, 6, 15), None),
    ],
)
def test_usual_forms(
    raw: str, year: int | None, kind: str, due: date | None, note: str | None
) -> None:
    deadline, flags = parse_deadline(raw, year)
    assert (deadline.raw, deadline.kind, deadline.due, deadline.note) == (raw, kind, due, note)
    assert flags == []


@pytest.mark.parametrize(
    "raw", ["", "Khi có yêu cầu", "Sớm nhất có thể", "31/02/2024", "Tháng 13/2024"]
)
def test_anything_else_is_unknown_and_flagged(raw: str) -> None:
    deadline, flags = parse_deadline(raw, 2024)
    assert deadline.kind == "unknown"
    assert deadline.due is None
    assert deadline.raw == raw
    assert "unknown_deadline" in flags


def test_a_quarter_without_any_year_is_not_guessed() -> None:
    deadline, flags = parse_deadline("Quý II", None)
    assert deadline.kind == "unknown" and deadline.due is None
    assert flags == ["unknown_deadline", "deadline_needs_year"]


def test_a_deadline_cell_is_told_from_a_phrase_containing_one() -> None:
    assert looks_like_deadline("Thường xuyên")
    assert looks_like_deadline("Quý III/2024")
    assert not looks_like_deadline("Các sở, ban, ngành Thường xuyên")
    assert not looks_like_deadline("UBND cấp xã")
