"""The prose reader on small typed plans: headings by name, dashed items, page furniture,
deadlines named in an item, leads named in an item, DOCX, and the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.planimport import PlanFormatError, parse_plan
from bot.planimport.prose import dimension_heading, part_kind
from bot.planimport.prose_deadline import item_deadline

PLAN = """\
ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM

KẾ HOẠCH
Nâng cao Chỉ số PAPI tỉnh Thử Nghiệm năm 2025

I. MỤC ĐÍCH, YÊU CẦU

1. Mục đích

Nâng cao hiệu quả hoạt động của chính quyền các cấp.

II. NHIỆM VỤ, GIẢI PHÁP

1. Trách nhiệm giải trình với người dân: đạt 4,25 điểm, tăng 0,1 điểm so với năm 2023.

- Tổ chức đối thoại định kỳ giữa người đứng đầu cấp ủy, chính quyền với nhân dân;
hoàn thành trước ngày 30/6/2025.

- Nâng cao chất lượng tiếp công dân ở cấp xã, Sở Tư pháp chủ trì hướng dẫn.

KẾ HOẠCH PAPI 2025
- 2 -

2. Chỉ số nội dung 5: Thủ tục hành chính công: 7,05 điểm

Nội dung cần thực hiện

Rà soát, đơn giản hóa thủ tục hành chính trong Quý III/2025.

Niêm yết công khai thủ tục hành chính tại Bộ phận Một cửa các cấp; cập nhật kịp thời khi
có thay đổi.

KẾ HOẠCH PAPI 2025
- 3 -

III. TỔ CHỨC THỰC HIỆN

1. Sở Nội vụ

Theo dõi, đôn đốc, tổng hợp kết quả thực hiện Kế hoạch; báo cáo UBND tỉnh.

2. Công an tỉnh

- Bảo đảm an ninh trật tự tại khu dân cư.

KẾ HOẠCH PAPI 2025

Trên đây là Kế hoạch nâng cao Chỉ số PAPI năm 2025 của tỉnh.

Nơi nhận:
- Như trên;
"""


def _write(tmp_path: Path, text: str, name: str = "plan.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_typed_prose_plan(tmp_path: Path) -> None:
    plan = parse_plan(_write(tmp_path, PLAN))
    assert plan.title == "Nâng cao Chỉ số PAPI tỉnh Thử Nghiệm năm 2025"
    assert plan.year == 2025
    assert [(t.stt, t.dimension, t.text[:24]) for t in plan.tasks] == [
        ("1.1", 3, "Tổ chức đối thoại định k"),
        ("1.2", 3, "Nâng cao chất lượng tiếp"),
        ("2.1", 5, "Rà soát, đơn giản hóa th"),
        ("2.2", 5, "Niêm yết công khai thủ t"),
        ("III.1.1", None, "Theo dõi, đôn đốc, tổng "),  # no keyword: for review
        ("III.2.1", 6, "Bảo đảm an ninh trật tự "),
    ]
    # Dimension 3 by its name, dimension 5 by its number; each with its stated score.
    assert plan.scores == {"3": 4.25, "5": 7.05}
    assert plan.scores_year == 2024
    first, second, _third, fourth, home, police = plan.tasks
    assert first.text == (
        "Tổ chức đối thoại định kỳ giữa người đứng đầu cấp ủy, chính quyền với nhân dân; "
        "hoàn thành trước ngày 30/6/2025."
    )
    assert "KẾ HOẠCH PAPI 2025" not in second.text and "- 2 -" not in second.text
    assert fourth.text.endswith("cập nhật kịp thời khi có thay đổi.")
    assert (home.lead, police.lead) == (["Sở Nội vụ"], ["Công an tỉnh"])
    assert second.lead == ["Sở Tư pháp"]  # the item names its lead
    assert first.lead == [] and "no_lead_agency" in first.flags
    assert police.subdimension == "6.4"


def test_deadlines_named_in_the_items_else_recurring_and_flagged(tmp_path: Path) -> None:
    first, second, third, *_rest = parse_plan(_write(tmp_path, PLAN)).tasks
    assert (first.deadline.kind, str(first.deadline.due)) == ("date", "2025-06-30")
    assert "deadline_assumed" not in first.flags
    assert (third.deadline.raw, str(third.deadline.due)) == ("Quý III/2025", "2025-09-30")
    assert (second.deadline.kind, second.deadline.raw) == ("recurring", "Thường xuyên")
    assert "deadline_assumed" in second.flags


def test_typed_text_is_not_flagged_as_scanned(tmp_path: Path) -> None:
    plan = parse_plan(_write(tmp_path, PLAN))
    assert all("from_prose" in t.flags and "ocr_damaged" not in t.flags for t in plan.tasks)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoàn thành trước ngày 15/5/2025", ("Trước ngày 15/5/2025", False)),
        ("triển khai trong quý 2 năm 2025", ("Quý II/2025", False)),
        ("hoàn thành trong tháng 9/2025", ("Tháng 9/2025", False)),
        ("xong trong 6 tháng đầu năm 2025", ("6 tháng đầu năm 2025", False)),
        ("gửi báo cáo quý trước ngày 20/3", ("Thường xuyên", True)),  # the report calendar
        ("ban hành truoc ngay 151512021", ("Thường xuyên", True)),  # a garbled date: no guess
        ("Thirc hién trong Quy II", ("Quý II", False)),
    ],
)
def test_item_deadlines(text: str, expected: tuple[str, bool]) -> None:
    assert item_deadline(text) == expected


def test_headings_are_matched_despite_scan_damage() -> None:
    assert part_kind("NOI DUNG THU'C HIEN") == "tasks"
    assert part_kind("TO CHUC THU'C HIEN") == "organisation"
    assert part_kind("MUC PICH - YEU CAU") == "purpose"
    assert part_kind("NOI DUNG CAN TIEP TUC DUY TRI, PHAT HUY") == "other"
    heading = dimension_heading("Chi sd ndi dung 6: Cung @ng dich vu cdng: 7,13 diém, giam")
    assert heading is not None and (heading.dimension, heading.score) == (6, 7.13)
    by_name = dimension_heading("Quan tri moi trirong: 3,27 diém")
    assert by_name is not None and by_name.dimension == 7
    assert dimension_heading("Chỉ số nội dung 9: không có") is None


def test_a_prose_docx(tmp_path: Path) -> None:
    import docx

    document = docx.Document()  # a Word file has no running headers in its body
    for chunk in PLAN.split("\n\n"):
        if not chunk.startswith("KẾ HOẠCH PAPI"):
            document.add_paragraph(" ".join(chunk.split("\n")))
    path = tmp_path / "plan.docx"
    document.save(str(path))
    plan = parse_plan(path)
    assert [t.dimension for t in plan.tasks] == [3, 3, 5, 5, None, 6]
    assert plan.tasks[1].text.endswith("Sở Tư pháp chủ trì hướng dẫn.")
    assert plan.scores == {"3": 4.25, "5": 7.05}


def test_task_sections_without_items_are_refused(tmp_path: Path) -> None:
    text = "II. NỘI DUNG THỰC HIỆN\n\nCác cơ quan quán triệt kế hoạch.\n"
    with pytest.raises(PlanFormatError, match=r"plan\.txt: the plan's text has no task items"):
        parse_plan(_write(tmp_path, text))


def test_garbled_text_is_refused(tmp_path: Path) -> None:
    garbled = " ".join(["Pé s6 n@ chirc ¢6 1a x4 hiww jz"] * 10)
    with pytest.raises(PlanFormatError, match=r"plan\.txt: the text is too damaged to read"):
        parse_plan(_write(tmp_path, garbled))


def test_text_that_is_no_plan_names_both_what_it_looked_for(tmp_path: Path) -> None:
    text = "Biên bản họp ngày 3/5/2025.\n\nCác đại biểu đã thảo luận.\n"
    with pytest.raises(PlanFormatError, match=r"no recognisable table header .*no task part"):
        parse_plan(_write(tmp_path, text))


def test_a_plan_whose_items_are_garbled_is_refused(tmp_path: Path) -> None:
    garbled = "\n\n".join(f"{c}) Pé s6 n@ chirc ¢6 1a x4 hiww jz qq." for c in "abcdefgh")
    text = f"II. NỘI DUNG THỰC HIỆN\n\n1. Chỉ số nội dung 1: Tham gia: 5,1 điểm\n\n{garbled}\n"
    with pytest.raises(PlanFormatError, match=r"plan\.txt: the text is too damaged to read"):
        parse_plan(_write(tmp_path, text))
