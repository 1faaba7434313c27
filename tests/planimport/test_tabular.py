"""The XLSX/CSV template and the review round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.planimport import PlanFormatError, parse_plan
from bot.planimport.tabular import PLAN_SHEET, TASK_SHEET, write_review

SEEDS = ["000_6a26aac315758a40.txt", "003_a94ea9f0ba2d1e58.txt", "004_d6a133a28596482b.txt"]


@pytest.mark.parametrize("seed", SEEDS)
def test_review_file_reads_back_as_the_same_plan(
    seeds_dir: Path, tmp_path: Path, seed: str
) -> None:
    original = parse_plan(seeds_dir / seed)
    review = tmp_path / "review.xlsx"
    write_review(original, review)
    again = parse_plan(review)
    assert again.to_json() == original.to_json()


def test_review_edits_are_taken(seeds_dir: Path, tmp_path: Path) -> None:
    original = parse_plan(seeds_dir / "004_d6a133a28596482b.txt")
    review = tmp_path / "review.xlsx"
    write_review(original, review)
    book = load_workbook(review)
    sheet = book[TASK_SHEET]
    header = [cell.value for cell in sheet[1]]
    column = {name: header.index(name) + 1 for name in header}
    flagged_row = next(
        row for row in range(2, sheet.max_row + 1)
        if "unknown_deadline" in str(sheet.cell(row, column["Cần xem lại"]).value or "")
    )  # fmt: skip
    assert sheet.cell(flagged_row, 1).fill.start_color.rgb.endswith("FFF2CC")  # highlighted
    sheet.cell(flagged_row, column["Thời gian hoàn thành"]).value = "Quý IV/2022"
    sheet.cell(flagged_row, column["Loại hạn"]).value = None  # re-read the edited text
    sheet.cell(2, column["Chỉ số nội dung"]).value = 2
    sheet.cell(2, column["Nội dung thành phần"]).value = "2.1"
    sheet.cell(2, column["Cơ quan phối hợp"]).value = "Sở Nội vụ; UBND cấp huyện"
    book.save(review)

    edited = parse_plan(review)
    assert len(edited.tasks) == len(original.tasks)
    task = edited.tasks[flagged_row - 2]
    assert (task.deadline.kind, str(task.deadline.due)) == ("date", "2022-12-31")
    assert "unknown_deadline" not in task.flags
    first = edited.tasks[0]
    assert (first.dimension, first.subdimension, first.confidence) == (2, "2.1", 1.0)
    assert first.coordinating == ["Sở Nội vụ", "UBND cấp huyện"]
    assert edited.tasks[1:] != [] and edited.tasks[5].to_json() == original.tasks[5].to_json()
    assert edited.report_deadlines == ["12-12"]
    assert edited.year == 2022


def test_csv_template(tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach-2025.csv"
    path.write_text(
        "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian hoàn thành\n"
        '1,"Công khai danh sách hộ nghèo, cận nghèo",UBND cấp xã,"Sở Nội vụ; UBND cấp huyện",'
        "Quý III\n"
        "2,Tiếp công dân định kỳ,UBND cấp xã,,Thường xuyên\n",
        encoding="utf-8",
    )
    plan = parse_plan(path)
    assert plan.title == "ke-hoach-2025" and plan.year == 2025
    first, second = plan.tasks
    assert first.coordinating == ["Sở Nội vụ", "UBND cấp huyện"]
    assert (first.deadline.kind, str(first.deadline.due)) == ("date", "2025-09-30")
    assert (first.dimension, first.subdimension) == (2, "2.2")
    assert second.deadline.kind == "recurring" and second.coordinating == []


def _xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_with_a_wrong_column(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "plan.xlsx",
        ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Ngân sách"],
        [[1, "Một nhiệm vụ", "UBND cấp xã", 100]],
    )
    with pytest.raises(PlanFormatError, match=r"plan\.xlsx row 1: unknown column Ngân sách"):
        parse_plan(path)


def test_xlsx_with_a_missing_column(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "plan.xlsx", ["STT", "Nhiệm vụ"], [[1, "Một nhiệm vụ"]])
    with pytest.raises(PlanFormatError, match=r"row 1: missing column Cơ quan chủ trì"):
        parse_plan(path)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Chỉ số nội dung", "9", r"row 3: bad value '9' in column Chỉ số nội dung"),
        ("Loại hạn", "soon", r"row 3: bad value 'soon' in column Loại hạn"),
    ],
)
def test_xlsx_bad_cell_names_the_row(tmp_path: Path, column: str, value: str, message: str) -> None:
    header = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", column]
    path = _xlsx(
        tmp_path / "plan.xlsx",
        header,
        [[1, "Nhiệm vụ một", "UBND cấp xã", None], [2, "Nhiệm vụ hai", "UBND cấp xã", value]],
    )
    with pytest.raises(PlanFormatError, match=message):
        parse_plan(path)


def test_an_xlsx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(b"STT\tNhiem vu\n")
    with pytest.raises(PlanFormatError, match=r"plan\.xlsx: not an XLSX file"):
        parse_plan(path)


def test_plan_sheet_is_optional_but_read(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "p.xlsx", ["STT", "Nhiệm vụ", "Cơ quan chủ trì"], [[1, "X", "Sở Y tế"]])
    book = load_workbook(path)
    meta = book.create_sheet(PLAN_SHEET)
    meta.append(["title", "Kế hoạch thử"])
    meta.append(["year", 2026])
    meta.append(["report_deadlines", "06-20, 11-30"])
    book.save(path)
    plan = parse_plan(path)
    assert (plan.title, plan.year, plan.report_deadlines) == (
        "Kế hoạch thử",
        2026,
        ["06-20", "11-30"],
    )


def test_csv_with_semicolons_as_excel_writes_it_in_vietnamese(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(
        "STT;Nhiệm vụ;Cơ quan chủ trì;Thời gian hoàn thành\n"
        "1;Công khai ngân sách, thu chi;UBND cấp xã;Năm 2025\n",
        encoding="utf-8",
    )
    (task,) = parse_plan(path).tasks
    assert (task.text, task.lead, str(task.deadline.due)) == (
        "Công khai ngân sách, thu chi",
        ["UBND cấp xã"],
        "2025-12-31",
    )


def test_xlsx_with_title_rows_merged_cells_and_a_repeated_header(tmp_path: Path) -> None:
    header = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["PHỤ LỤC"])
    sheet.append(["Phân công nhiệm vụ nâng cao Chỉ số PAPI năm 2025"])
    sheet.append(header)
    sheet.append([1, "Công khai ngân sách xã", "UBND cấp xã", "Sở Tài chính", "Quý II"])
    sheet.append([2, "Công khai danh sách hộ nghèo", "UBND cấp xã", None, None])
    sheet.append(header)  # printed again at the top of the next page
    sheet.append([3, "Tiếp công dân định kỳ", "UBND cấp xã", None, "Thường xuyên"])
    sheet.append([None, None, None, None, None])
    sheet.merge_cells("D4:D5")  # coordinating agency shared by tasks 1 and 2
    sheet.merge_cells("E4:E5")  # and their deadline
    sheet.merge_cells("A7:A8")  # a merged STT does not make a task of the empty row below
    path = tmp_path / "plan.xlsx"
    book.save(path)
    plan = parse_plan(path)
    assert plan.title == "Phân công nhiệm vụ nâng cao Chỉ số PAPI năm 2025"
    assert plan.year == 2025
    assert [t.stt for t in plan.tasks] == ["1", "2", "3"]
    second = plan.tasks[1]
    assert second.coordinating == ["Sở Tài chính"]
    assert (second.deadline.raw, str(second.deadline.due)) == ("Quý II", "2025-06-30")
    assert plan.tasks[2].coordinating == []
    assert plan.tasks[2].source_row == "row 7"


def test_xlsx_header_below_a_title_names_its_row(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Kế hoạch năm 2025"])
    sheet.append(["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Kinh phí"])
    sheet.append([1, "Tiếp công dân", "UBND cấp xã", 5])
    path = tmp_path / "plan.xlsx"
    book.save(path)
    with pytest.raises(PlanFormatError, match=r"plan\.xlsx row 2: unknown column Kinh phí"):
        parse_plan(path)
