"""XLSX cells, DOCX tables, CSV rows and the PNG chart, against the hand-computed figures."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session

from bot.reports.chart import chart_series, write_chart
from bot.reports.csvout import write_csv
from bot.reports.docx import default_letterhead, place_name, write_docx
from bot.reports.files import plan_title, render
from bot.reports.xlsx import write_xlsx
from kernel.i18n import use_locale
from storage.periods import quarter_period
from storage.rollup import Rollup, rollup
from tests.reports.dataset import NOW, build_three_level, build_two_level

Q3 = quarter_period(2024, 3)


def _province(session: Session) -> Rollup:
    data = build_three_level(session)
    return rollup(session, data.units["P"], Q3, NOW, silence_days=21, with_matrix=True)


def test_xlsx_summary_sheet(session: Session, tmp_path: Path) -> None:
    with use_locale("vi"):
        path = write_xlsx(_province(session), tmp_path / "r.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [
        "Tổng hợp",
        "Chỉ số 1",
        "Chỉ số 3",
        "Chỉ số 8",
        "Chỉ số Khác",
        "Nhiệm vụ theo đơn vị",
        "Vướng mắc",
    ]
    sheet = book["Tổng hợp"]
    assert sheet["A1"].value == "Tiến độ thực hiện: Tỉnh Bắc Giang"
    assert sheet.freeze_panes == "B5"
    header = [c.value for c in sheet[4]]
    assert header[:5] == [
        "Phạm vi",
        "Số lượt giao",
        "Chưa thực hiện",
        "Đang thực hiện",
        "Hoàn thành",
    ]
    assert header[-3:] == ["Tỷ lệ hoàn thành (%)", "Xếp hạng", "Điểm PAPI năm 2021"]
    # Total: 11 assignments, 1 not started, 4 in progress, 4 done, 2 blocked, 1 overdue,
    # 3 silent, 2 done in period, 36.4 %
    assert [c.value for c in sheet[5]] == ["Tổng cộng", 11, 1, 4, 4, 2, 1, 3, 2, 36.4, None, None]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=6, values_only=True) if row[0]}
    assert rows["1. Tham gia của người dân ở cấp cơ sở"][1:5] == (4, 0, 1, 3)
    assert rows["1. Tham gia của người dân ở cấp cơ sở"][-1] == 4.86
    assert rows["2. Công khai, minh bạch trong việc ra quyết định ở địa phương"][1] == 0
    assert rows["Huyện Lục Nam"][-2] == "1/2"
    assert rows["Huyện Yên Dũng"][1:] == (6, 1, 2, 2, 1, 1, 3, 1, 33.3, "2/2", None)
    assert rows["Huyện Sơn Động"][1] == 0
    assert sheet.column_dimensions["A"].width > 20


def test_xlsx_dimension_matrix_and_blocked_sheets(session: Session, tmp_path: Path) -> None:
    result = _province(session)
    with use_locale("vi"):
        book = load_workbook(write_xlsx(result, tmp_path / "r.xlsx"))
    dim1 = book["Chỉ số 1"]
    assert dim1["A1"].value == "1. Tham gia của người dân ở cấp cơ sở"
    assert dim1.freeze_panes == "C5"
    assert [c.value for c in dim1[5]][:7] == [
        "1.",
        "Tuyên truyền về Chỉ số PAPI",
        "30/06/2024",
        4,
        0,
        1,
        3,
    ]
    matrix = book["Nhiệm vụ theo đơn vị"]
    assert [c.value for c in matrix[4]] == [
        "STT",
        "Nhiệm vụ",
        "Huyện Lục Nam",
        "Huyện Yên Dũng",
        "Sở Nội vụ",
    ]
    t1 = [c.value for c in matrix[5]]
    assert t1 == ["1.", "Tuyên truyền về Chỉ số PAPI", "Hoàn thành", "1/2", "Hoàn thành"]
    assert matrix["C5"].fill.fgColor.rgb.endswith("C6EFCE")  # done: green
    assert matrix["D5"].fill.fgColor.rgb.endswith("FFEB9C")  # 1 of 2 done: yellow
    t3 = [c.value for c in matrix[7]]
    assert t3 == ["3.", "Cập nhật cổng thông tin xã", "Đang thực hiện", "0/2", None]
    assert matrix["D7"].fill.fgColor.rgb.endswith("FFC7CE")  # C1 T3 blocked: red
    blocked = book["Vướng mắc"]
    values = [row for row in blocked.iter_rows(min_row=5, values_only=True)]
    numbers = [f"#{item.assignment_id}" for item in result.blocked]
    assert [(r[0], r[1], r[3]) for r in values] == [
        ("Xã Tân An", numbers[0], "Thiếu kinh phí"),  # the chat's task number, not the STT
        ("Xã Bảo Đài", numbers[1], "Chờ hướng dẫn của Sở"),
    ]


def test_xlsx_of_a_unit_with_no_tasks(session: Session, tmp_path: Path) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["D3"], Q3, NOW, silence_days=21, with_matrix=True)
    with use_locale("en"):
        book = load_workbook(write_xlsx(result, tmp_path / "empty.xlsx"))
    assert book.sheetnames == ["Summary", "Tasks by unit", "Blocked"]
    assert [c.value for c in book["Summary"][5]][:4] == ["Total", 0, 0, 0]


def _cells(table: object) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]  # type: ignore[attr-defined]


def test_docx_layout_and_tables(session: Session, tmp_path: Path) -> None:
    result = _province(session)
    with use_locale("vi"):
        head = default_letterhead(result, date(2024, 2, 5), plan_title(session, result))
        chart = write_chart(result, tmp_path / "c.png")
        path = write_docx(result, tmp_path / "r.docx", head, chart)
    document = Document(str(path))
    section = document.sections[0]
    width, left, top = section.page_width, section.left_margin, section.top_margin
    assert width is not None and left is not None and top is not None
    assert (round(width.mm), round(left.mm), round(top.mm)) == (210, 30, 20)
    assert document.styles["Normal"].font.name == "Times New Roman"
    header = _cells(document.tables[0])
    assert header[0][0].splitlines() == ["UBND TỈNH BẮC GIANG", "SỞ NỘI VỤ"]
    assert header[0][1].splitlines() == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert header[1][0] == "Số:       /BC-SNV"
    assert header[1][1] == "Bắc Giang, ngày 05 tháng 02 năm 2024"
    texts = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in texts
    subject = (
        "Kết quả thực hiện Kế hoạch số 99/KH-UBND về cải thiện Chỉ số PAPI năm 2024, quý III/2024"
    )
    assert subject in texts  # the plan by its number, not "Kết quả thực hiện Cải thiện…"
    assert "I. KẾT QUẢ CHUNG" in texts
    # dimension sections, weakest PAPI score first
    sections = [t for t in texts if t[:2] in ("1.", "3.", "8.") and "PAPI 2021" in t]
    assert sections[0] == "8. Quản trị điện tử (PAPI 2021: 2,58/10 điểm)"  # its PAPI number
    e_gov = _cells(document.tables[1])
    assert e_gov[0][:2] == ["STT", "Nhiệm vụ"]
    assert e_gov[1] == ["3.", "Cập nhật cổng thông tin xã", "3", "0", "1", "1", "0", "0%"]
    units = next(t for t in document.tables if _cells(t)[0][0] == "Đơn vị" and len(t.columns) == 8)
    assert _cells(units)[1] == ["Huyện Lục Nam", "3", "1", "1", "0", "0", "33,3%", "1/2"]
    blocked = next(
        t
        for t in document.tables
        if _cells(t)[0] == ["Đơn vị", "Nhiệm vụ", "Nội dung vướng mắc", "Thời điểm báo cáo"]
    )
    assert _cells(blocked)[1][:3] == [
        "Xã Tân An",
        f"#{result.blocked[0].assignment_id} Cập nhật cổng thông tin xã",  # the chat's number
        "Thiếu kinh phí",
    ]
    signature = _cells(document.tables[-1])[0]
    assert signature[0].splitlines()[0] == "Nơi nhận:"
    assert "- Lưu: VT, NV." in signature[0].splitlines()
    assert signature[1].splitlines()[:2] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
    assert len(document.inline_shapes) == 1  # the chart


def test_docx_of_an_empty_period_and_two_level_tree(session: Session, tmp_path: Path) -> None:
    data = build_two_level(session)
    now = NOW.replace(year=2026)
    result = rollup(session, data.units["P"], quarter_period(2025, 1), now, silence_days=21)
    with use_locale("vi"):
        path = render(session, result, "docx", tmp_path / "r.docx", now)
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert "Không có nhiệm vụ nào báo cáo vướng mắc." in texts
    assert "Hoàn thành 0/6 (0%) · đang thực hiện 0 · vướng mắc 0 · chưa thực hiện 6." in texts
    assert place_name("Tỉnh Thái Nguyên") == "Thái Nguyên"


def test_csv_and_chart(session: Session, tmp_path: Path) -> None:
    result = _province(session)
    with use_locale("vi"):
        path = write_csv(result, tmp_path / "r.csv")
        png = write_chart(result, tmp_path / "r.png")
        dims, units = chart_series(result)
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"  # the BOM: Excel reads UTF-8
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))  # Vietnamese regional settings
    assert rows[0][:4] == ["Phần", "Mã", "Tên", "Số lượt giao"]
    assert rows[1] == [
        "Tổng cộng",
        "24",
        "Tỉnh Bắc Giang",
        "11",
        "1",
        "4",
        "4",
        "2",
        "1",
        "3",
        "2",
        "36,4",  # the decimal comma, as in every Vietnamese output
    ]
    with use_locale("en"):
        english = write_csv(result, tmp_path / "en.csv")
    with english.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle))[1][-1] == "36.4"
    tasks = [r for r in rows if r[0] == "Nhiệm vụ"]
    assert [r[1] for r in tasks] == ["1.", "2.", "3.", "4."]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [value for _, value in dims] == [0.0, 33.3, 75.0]  # 8, 3, 1: weakest score first
    assert units == [("Huyện Lục Nam", 33.3), ("Huyện Yên Dũng", 33.3), ("Sở Nội vụ", 50.0)]
