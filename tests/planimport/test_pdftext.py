"""PDF-extracted text beyond seed 002: the layouts the extractor produces, built here."""

from __future__ import annotations

from pathlib import Path

from bot.planimport import parse_plan
from bot.planimport.pdftext import join_lines

PDF_TEXT = """KẾ HOẠCH
Nâng cao Chỉ số PAPI tỉnh Thử năm 2025

Phụ lục

STT Nhiệm vụ Cơ quan chủ trì Cơ quan phối hợp
Thời gian

hoàn thành

1.  Niêm yết công khai quy hoạch, kế hoạch sử dụng đất tại

trụ sở UBND cấp xã và nhà văn hóa thôn

Sở Tài nguyên và

Môi trường

UBND cấp huyện,

UBND cấp xã

Quý II/2025

2.

Tổ chức đối thoại định kỳ với Nhân dân về các vấn đề bức

xúc tại địa phương

UBND cấp xã UBND cấp huyện; Ủy ban

MTTQ cấp xã Năm 2025

7

3.  Nâng cấp Trang thông tin điện tử của xã, cập nhật đầy đủ

STT Nhiệm vụ Cơ quan chủ trì Cơ quan phối hợp
Thời gian

hoàn thành

thông tin theo Nghị định số 42/2022/NĐ-

CP của Chính phủ.

UBND cấp xã Sở Thông tin và Truyền

thông

Tháng 9/2025

Nơi nhận:
- Như trên;
"""


def test_pdf_text_layouts(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(PDF_TEXT, encoding="utf-8")
    plan = parse_plan(path)
    assert plan.year == 2025
    first, second, third = plan.tasks
    assert first.text == (
        "Niêm yết công khai quy hoạch, kế hoạch sử dụng đất tại trụ sở UBND cấp xã và nhà "
        "văn hóa thôn"
    )
    assert first.lead == ["Sở Tài nguyên và Môi trường"]
    assert first.coordinating == ["UBND cấp huyện", "UBND cấp xã"]
    assert str(first.deadline.due) == "2025-06-30"
    assert (first.dimension, first.subdimension) == (2, "2.4")
    assert second.text.endswith("bức xúc tại địa phương")
    assert second.lead == ["UBND cấp xã"]
    assert second.coordinating == ["UBND cấp huyện", "Ủy ban MTTQ cấp xã"]
    assert second.deadline.raw == "Năm 2025"
    assert third.text.endswith("theo Nghị định số 42/2022/NĐ-CP của Chính phủ.")
    assert (third.lead, third.coordinating) == (["UBND cấp xã"], ["Sở Thông tin và Truyền thông"])
    assert str(third.deadline.due) == "2025-09-30"


def test_join_lines_keeps_hyphenated_words_together() -> None:
    assert join_lines(["Chỉ thị số 09-", "CT/TU ngày"]) == "Chỉ thị số 09-CT/TU ngày"
    assert join_lines(["kinh tế -", "xã hội"]) == "kinh tế - xã hội"
