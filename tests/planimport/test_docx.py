"""DOCX plans built in the test: merged cells, a table continued across pages with its
header repeated, a continuation row, and broken files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import docx
import pytest

from bot.planimport import PlanFormatError, parse_plan

HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]


def _fill(table: Any, rows: list[list[str]]) -> None:
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value


def _plan_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("Nâng cao Chỉ số PAPI tỉnh Thử Nghiệm năm 2025")
    document.add_paragraph(
        "Định kỳ báo cáo 6 tháng trước ngày 15/6; báo cáo năm trước ngày 15/11 (qua Sở Nội vụ)."
    )
    first = document.add_table(rows=4, cols=5)
    _fill(
        first,
        [
            HEADER,
            ["1.", "Công khai thu, chi ngân sách xã", "UBND cấp xã", "Sở Tài chính", "Quý II"],
            ["2.", "Niêm yết danh sách hộ nghèo", "UBND cấp xã", "", ""],
            ["3.", "Tăng cường giải quyết khiếu nại, tố cáo của người", "Thanh tra tỉnh",
             "UBND cấp huyện", "Thường xuyên"],
        ],
    )  # fmt: skip
    # Coordinating and deadline of task 2 are merged with task 1's cells (vertical merge).
    first.cell(1, 3).merge(first.cell(2, 3))
    first.cell(1, 4).merge(first.cell(2, 4))
    first.cell(1, 3).text = "Sở Tài chính"
    first.cell(1, 4).text = "Quý II"
    cast(Any, document).add_page_break()  # python-docx leaves this one untyped
    second = document.add_table(rows=3, cols=5)
    _fill(
        second,
        [
            HEADER,
            ["", "dân gửi tới chính quyền địa phương.", "", "", ""],
            ["4.", "Nâng cấp Cổng thông tin điện tử của tỉnh", "Sở TT&TT", "VP UBND tỉnh",
             "Tháng 9/2025"],
        ],
    )  # fmt: skip
    document.add_paragraph("Nơi nhận và chữ ký:")
    signature = document.add_table(rows=1, cols=2)
    _fill(signature, [["Nơi nhận:\n- Như trên;\n- Lưu: VT.", "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"]])
    path = path / "plan.docx"
    document.save(str(path))
    return path


def test_docx_with_merged_cells_and_repeated_header(tmp_path: Path) -> None:
    plan = parse_plan(_plan_docx(tmp_path))
    assert plan.title == "Nâng cao Chỉ số PAPI tỉnh Thử Nghiệm năm 2025"
    assert plan.year == 2025
    assert plan.report_deadlines == ["06-15", "11-15"]
    assert [t.stt for t in plan.tasks] == ["1.", "2.", "3.", "4."]  # not the signature table
    second = plan.tasks[1]
    assert second.coordinating == ["Sở Tài chính"]  # merged cell: same as the row above
    assert (second.deadline.raw, str(second.deadline.due)) == ("Quý II", "2025-06-30")
    assert plan.tasks[2].text == (
        "Tăng cường giải quyết khiếu nại, tố cáo của người dân gửi tới chính quyền địa phương."
    )
    assert plan.tasks[2].dimension == 3
    fourth = plan.tasks[3]
    assert (fourth.lead, fourth.coordinating) == (["Sở TT&TT"], ["VP UBND tỉnh"])
    assert str(fourth.deadline.due) == "2025-09-30"
    assert fourth.dimension == 8


def test_a_docx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_text("this is not a Word file", encoding="utf-8")
    with pytest.raises(PlanFormatError, match=r"broken\.docx: not a DOCX file"):
        parse_plan(path)


def test_a_docx_without_a_plan_table(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Một văn bản không có bảng")
    table = document.add_table(rows=2, cols=2)
    _fill(table, [["Họ tên", "Chức vụ"], ["A", "B"]])
    path = tmp_path / "letter.docx"
    document.save(str(path))
    with pytest.raises(PlanFormatError, match=r"letter\.docx: no recognisable table header"):
        parse_plan(path)
