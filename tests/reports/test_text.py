"""The digest-ready text and the labels, against the hand-computed dataset figures."""

from __future__ import annotations

from sqlmodel import Session

from bot.reports.text import number, period_title, summary_text
from kernel.i18n import use_locale
from storage.periods import parse_period, quarter_period
from storage.rollup import rollup
from tests.reports.dataset import NOW, build_three_level

Q3 = quarter_period(2024, 3)


def test_summary_in_vietnamese(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["P"], Q3, NOW, silence_days=21)
    with use_locale("vi"):
        text = summary_text(result)
    lines = text.splitlines()
    assert lines[0] == "Tỉnh Bắc Giang — quý III/2024"
    assert lines[1] == (
        "Hoàn thành 4/11 (36,4%) · đang thực hiện 4 · vướng mắc 2 · chưa thực hiện 1"
    )
    assert lines[2] == "Quá hạn 1 · 3 không báo cáo từ 21 ngày trở lên"
    assert lines[3] == "Hoàn thành trong kỳ: 2"
    assert lines[4] == "So với quý II/2024: +18,2 điểm phần trăm"
    assert "Theo chỉ số nội dung PAPI (chỉ số yếu nhất trước):" in lines
    dims = [line for line in lines if line.startswith("• ") and "PAPI 2021" in line]
    # weakest published score first: E-Governance 2,58, then accountability 4,25, then 4,86
    assert dims == [
        "• 8. Quản trị điện tử: 0/3 (0%) — PAPI 2021: 2,58/10 điểm",
        "• 3. Trách nhiệm giải trình với người dân: 1/3 (33,3%) — PAPI 2021: 4,25/10 điểm",
        "• 1. Tham gia của người dân ở cấp cơ sở: 3/4 (75%) — PAPI 2021: 4,86/10 điểm",
    ]
    assert "• Nhiệm vụ khác: 0/1 (0%)" in lines
    first, second = (f"#{item.assignment_id}" for item in result.blocked)  # the chat's numbers
    assert f"• Xã Tân An — {first} Cập nhật cổng thông tin xã: Thiếu kinh phí" in lines
    assert f"• Xã Bảo Đài — {second} Tiếp công dân định kỳ: Chờ hướng dẫn của Sở" in lines
    assert "Không báo cáo từ 21 ngày trở lên: Huyện Yên Dũng (3)" in lines
    behind = lines[lines.index("Đơn vị chậm nhất:") + 1 :][:3]
    assert (
        behind[0] == "• Huyện Yên Dũng: hoàn thành 33,3%, quá hạn 1, không báo cáo 3"
    )  # C1 T3, C2 T1, C2 T3


def test_summary_in_english_and_empty_unit(session: Session) -> None:
    data = build_three_level(session)
    with use_locale("en"):
        empty = summary_text(rollup(session, data.units["D3"], Q3, NOW, silence_days=21))
        assert empty == "Huyện Sơn Động — quarter III/2024\nNo tasks are assigned in this unit yet."
        text = summary_text(rollup(session, data.units["P"], Q3, NOW, silence_days=21))
        assert "4/11 done (36.4%) · 4 in progress · 2 blocked · 1 not started" in text


def test_period_titles() -> None:
    with use_locale("vi"):
        assert period_title(parse_period("2024-H1", NOW.date())) == "6 tháng đầu năm 2024"
        assert period_title(parse_period("2024", NOW.date())) == "năm 2024"
        assert (
            period_title(parse_period("2024-01-01..2024-03-31", NOW.date()))
            == "từ 01/01/2024 đến 31/03/2024"
        )
        assert number(36.36) == "36,4"
    with use_locale("en"):
        assert period_title(parse_period("2024-Q1", NOW.date())) == "quarter I/2024"
