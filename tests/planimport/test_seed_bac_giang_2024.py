"""Seeds 000 (tab-separated appendix) and 002 (the same appendix as PDF text), row by row."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.planimport import ParsedPlan, parse_plan

ALL_LEVELS = ["Các sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã"]
SO_HUYEN = ["Các sở, ban, ngành", "UBND cấp huyện"]
HEALTH = ["Bảo hiểm xã hội tỉnh", "Bệnh viện tuyến tỉnh", "Bệnh viện tuyến huyện"]
RECURRING = "Thường xuyên"

# stt, start of the text, end of the text, lead, coordinating, deadline as written
EXPECTED: list[tuple[str, str, str, list[str], list[str], str]] = [
    (
        "1.",
        "Tiếp tục tuyên truyền nội dung",
        "nâng cao Chỉ số này.",
        ["Sở Nội vụ"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "2.",
        "Kiểm tra việc thực hiện",
        "một số địa phương trong tỉnh",
        ["Sở Nội vụ"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "3.",
        "Tăng cường kiểm soát TTHC;",
        "trên Cổng dịch vụ công.",
        ["Văn phòng UBND tỉnh"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "4.",
        "Nâng cao chất lượng giáo dục",
        "được đến trường.",
        ["Sở Giáo dục và Đào tạo"],
        SO_HUYEN,
        RECURRING,
    ),
    (
        "5.",
        "Tổ chức khảo sát mức độ hài lòng",
        "dịch vụ giáo dục công",
        ["Sở Giáo dục và Đào tạo"],
        SO_HUYEN,
        RECURRING,
    ),
    (
        "6.",
        "Thực hiện các biện pháp, giải pháp",
        "có bảo hiểm y tế, khám, chữa bệnh miễn phí.",
        ["Sở Y tế"],
        [*HEALTH, "UBND cấp huyện", "UBND cấp xã"],
        RECURRING,
    ),
    (
        "7.",
        "Đầu tư cơ sở hạ tầng",
        "khám, chữa bệnh bảo hiểm y tế.",
        ["Sở Y tế"],
        ["Sở Kế hoạch và Đầu tư", "Sở Tài chính", *HEALTH, "UBND cấp huyện", "UBND cấp xã"],
        RECURRING,
    ),
    (
        "8.",
        "Tổ chức khảo sát mức độ hài lòng",
        "dịch vụ y tế công",
        ["Sở Y tế"],
        SO_HUYEN,
        "Năm 2024",
    ),
    (
        "9.",
        "Tăng cường công khai, minh bạch",
        "quản lý tài nguyên và môi trường",
        ["Sở Tài nguyên và Môi trường"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "10.",
        "Đẩy mạnh hoạt động quan trắc",
        "hồ nước trên địa bàn tỉnh.",
        ["Sở Tài nguyên và Môi trường"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "11.",
        "Rà soát xác định các khu vực",
        "biện pháp chỉ đạo giải quyết.",
        ["Sở Tài nguyên và Môi trường"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "12.",
        "Tăng cường quản lý Cổng thông tin",
        "việc áp dụng sử dụng dịch vụ công trực tuyến mức độ toàn trình, một phần.",
        ["Sở Thông tin và Truyền thông"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "13.",
        "Tiếp nhận đầy đủ ý kiến",
        "của tổ chức, công dân.",
        ["Sở Thông tin và Truyền thông"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "14.",
        "Xây dựng các biện pháp, giải pháp",
        "tới mọi tầng lớp nhân dân.",
        ["Thanh tra tỉnh"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "15.",
        "Tăng cường giải quyết khiếu nại",
        "đặc biệt là khiếu nại vượt cấp",
        ["Thanh tra tỉnh"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "16.",
        "Tổ chức triển khai thực hiện",
        "chính quyền cơ sở đối với người dân.",
        ["Ủy ban Mặt trận Tổ quốc VN tỉnh"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "17.",
        "Tuyên truyền về nội dung",
        "thực hiện khảo sát tại địa phương.",
        ["Ủy ban Mặt trận Tổ quốc VN tỉnh"],
        ["Ủy ban Mặt trận Tổ quốc các cấp", "UBND cấp huyện", "UBND cấp xã"],
        RECURRING,
    ),
    (
        "18.",
        "Đẩy mạnh công tác thông tin",
        "để nhân dân biết, giám sát.",
        ["Đài Phát thanh và Truyền hình tỉnh", "Báo Bắc Giang"],
        ALL_LEVELS,
        RECURRING,
    ),
    (
        "19.",
        "Nâng cao chất lượng cung cấp",
        "an ninh trật tự tại các khu dân cư",
        ["UBND cấp huyện"],
        ["Sở Xây dựng", "Sở Nông nghiệp và PTNT"],
        RECURRING,
    ),
    (
        "20.",
        "Tuy",
        "tục đẩy mạnh, nâng cao chất lượng, hiệu quả thực hiện quy chế dân chủ ở cơ sở.",
        ["UBND cấp huyện", "UBND cấp xã"],
        ["Ủy ban MTTQ các cấp", "Ban Dân vận các Thành ủy", "Huyện ủy"],
        RECURRING,
    ),
    (
        "21.",
        "Công khai quy hoạch, kế hoạch",
        "hộ nghèo, cận nghèo theo quy định.",
        ["UBND cấp huyện", "UBND cấp xã"],
        ["Các sở, ban, ngành"],
        RECURRING,
    ),
    (
        "22.",
        "Thực hiện nghiêm việc đối thoại",
        "gửi tới chính quyền địa phương",
        ["UBND cấp huyện", "UBND cấp xã"],
        ["Thanh tra tỉnh", "Các sở, ban, ngành có liên quan"],
        RECURRING,
    ),
]

# What a reader of the plan would say each task serves (PAPI dimension), tasks 1..22.
READER_DIMENSIONS = [1, 1, 5, 6, 6, 6, 6, 6, 2, 7, 7, 8, 8, 4, 3, 3, 1, 2, 6, 1, 2, 3]

# The PDF text differs from the Word text in three places of the source itself.
SOURCE_TYPOS = {
    "3.": ("đánh giá Công chức", "đánh giả Công chức"),
    "9.": ("môi trường...", "môi trường…"),
    "20.": ("Tuyên truyền về việc", "Tuyên tuyền về việc"),
}


@pytest.fixture
def seed_000(seeds_dir: Path) -> ParsedPlan:
    return parse_plan(seeds_dir / "000_6a26aac315758a40.txt")


@pytest.fixture
def seed_002(seeds_dir: Path) -> ParsedPlan:
    return parse_plan(seeds_dir / "002_f5198f269f250eb7.txt")


def _check_rows(plan: ParsedPlan) -> None:
    assert len(plan.tasks) == 22
    for task, (stt, start, end, lead, coordinating, deadline) in zip(
        plan.tasks, EXPECTED, strict=True
    ):
        assert task.stt == stt
        assert task.text.startswith(start), (stt, task.text)
        assert task.text.rstrip("….").endswith(end.rstrip("….")), (stt, task.text)
        assert task.lead == lead, stt
        assert task.coordinating == coordinating, stt
        assert task.deadline.raw == deadline, stt
        if deadline == RECURRING:
            assert (task.deadline.kind, task.deadline.due) == ("recurring", None)
        else:
            assert task.deadline.kind == "date" and str(task.deadline.due) == "2024-12-31"


def test_seed_000_row_by_row(seed_000: ParsedPlan) -> None:
    _check_rows(seed_000)
    assert seed_000.year == 2024
    assert seed_000.report_deadlines == []
    assert "CHỈ SỐ PAPI TỈNH BẮC GIANG NĂM 2024" in seed_000.title


def test_page_break_rows_continue_the_previous_task(seed_000: ParsedPlan) -> None:
    by_stt = {task.stt: task for task in seed_000.tasks}
    assert "có bảo hiểm y tế, khám, chữa bệnh miễn phí." in by_stt["6."].text
    assert by_stt["12."].text.endswith(
        "sử dụng dịch vụ công trực tuyến mức độ toàn trình, một phần."
    )
    assert "Tỉnh ủy về tiếp tục đẩy mạnh" in by_stt["20."].text
    assert not any(task.text.startswith(("khám", "dịch vụ", "tục")) for task in seed_000.tasks)


def test_seed_002_pdf_text_gives_the_same_rows(seed_000: ParsedPlan, seed_002: ParsedPlan) -> None:
    _check_rows(seed_002)
    for word, pdf in zip(seed_000.tasks, seed_002.tasks, strict=True):
        expected = word.text
        if word.stt in SOURCE_TYPOS:
            before, after = SOURCE_TYPOS[word.stt]
            expected = expected.replace(before, after)
        assert pdf.text == expected, word.stt
        assert (pdf.lead, pdf.coordinating) == (word.lead, word.coordinating)
        assert pdf.deadline == word.deadline


def test_classifier_agrees_with_a_reader_on_seed_000(seed_000: ParsedPlan) -> None:
    inferred = [task.dimension for task in seed_000.tasks]
    agree = sum(a == b for a, b in zip(inferred, READER_DIMENSIONS, strict=True))
    assert agree >= 20, list(zip(range(1, 23), inferred, READER_DIMENSIONS, strict=True))
    assert all(task.confidence is not None and 0 < task.confidence <= 1 for task in seed_000.tasks)
