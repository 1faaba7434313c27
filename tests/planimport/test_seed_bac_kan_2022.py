"""Seed 004 (Bắc Kạn 2022): a grouped appendix. Roman-numeral sections set the lead agency,
"1 …" / "1.1 …" rows the dimension and sub-dimension (by name: numbering restarts in each
section), blank coordinating/deadline cells repeat the row above within a sub-dimension.

The table has 89 rows with a task text; the one at line 257 ("thông tin mạng tỉnh Bắc Kạn
năm 2022; …") is the second half of the row at line 255 cut by a page break (that row ends
"… bảo đảm an toàn"), so the plan has 88 tasks.
"""

from __future__ import annotations

import pytest

from bot.planimport import ParsedPlan, parse_plan

# First line of each section and the lead agency it names.
SECTIONS = [
    (133, "UBND cấp xã"),
    (174, "UBND cấp huyện"),
    (208, "Sở Tài nguyên và Môi trường"),
    (218, "Sở Tư pháp"),
    (223, "Thanh tra tỉnh"),
    (228, "Sở Y tế"),
    (235, "Sở Giáo dục và Đào tạo"),
    (243, "Sở Nội vụ"),
    (246, "Sở Công Thương"),
    (249, "Sở Nông nghiệp và Phát triển nông thôn"),
    (252, "Sở Thông tin và Truyền thông"),
    (259, "Văn phòng UBND tỉnh"),
    (263, "Các sở, ban, ngành"),
]
X = "Thường xuyên"

# line, stt, PAPI sub-dimension, coordinating agencies, deadline as written, start of the text
EXPECTED = [
    (135, "1.1", "1.1", "Các sở, ban, ngành; UBND cấp huyện", X, "Đẩy mạnh công tác thông tin, t"),
    (
        136,
        "",
        "1.1",
        "Các sở, ban, ngành; UBND cấp huyện; Ban Dân vận cấp tỉnh; Ban Dân vận cấp huyện",
        X,
        "Đa dạng các hình thức tuyên tr",
    ),
    (137, "", "1.1", "UBND cấp huyện", X, "Triển khai các quy định về bầu"),
    (
        138,
        "1.2",
        "1.2",
        "UBND cấp huyện; Ban Dân vận cấp tỉnh; Ban Dân vận cấp huyện",
        "",
        "Tuyên truyền, vận động người d",
    ),
    (139, "1.3", "1.3", "UBND cấp huyện", "Theo nhiệm kỳ", "Thực hiện đúng các quy định về"),
    (140, "", "1.3", "UBND cấp huyện", "Theo nhiệm kỳ", "Dân chủ, công khai minh bạch b"),
    (141, "", "1.3", "UBND cấp huyện", "Theo nhiệm kỳ", "Kiểm tra, giám sát việc thực h"),
    (
        143,
        "1.4",
        "1.4",
        "UBND cấp huyện; các Tổ chức chính trị, xã hội cấp xã",
        X,
        "Công khai minh bạch đầy đủ và ",
    ),
    (145, "2.1", "2.1", "Các sở, ngành; UBND cấp huyện", X, "Đảm bảo thực hiện quyền tiếp c"),
    (
        146,
        "2.2",
        "2.2",
        "UBND cấp huyện; Ban thanh tra nhân dân cấp xã",
        X,
        "Dân chủ, công khai minh bạch v",
    ),
    (
        147,
        "2.3",
        "2.3",
        "Ủy ban MTTQ cấp xã; Ban thanh tra nhân dân cấp cơ sở",
        X,
        "Thực hiện thu, chi các khoản k",
    ),
    (
        149,
        "2.4",
        "2.4",
        "Sở Tài nguyên và Môi trường; UBND cấp huyện",
        "",
        "Quy hoạch, kế hoạch sử dụng đấ",
    ),
    (151, "3.1", "3.1", "Ủy ban MTTQ cấp xã", X, "Chủ động tương tác tích cực vớ"),
    (152, "3.2", "3.2", "Ủy ban MTTQ cấp xã", X, "Nâng cao trách nhiệm giải trìn"),
    (
        153,
        "3.3",
        "3.3",
        "Trung tâm Trợ giúp pháp lý nhà nước (Sở Tư pháp)",
        "",
        "Đẩy mạnh tuyên truyền về công ",
    ),
    (155, "4.1", "4.1", "Ủy ban MTTQ cấp xã", X, "Thường xuyên tuyên truyền, phổ"),
    (
        158,
        "5.1",
        "5.1",
        "Văn phòng UBND tỉnh; Sở Tư pháp; UBND cấp huyện",
        X,
        "Nâng cao chất lượng rà soát đá",
    ),
    (159, "5.2", "5.4", "Văn phòng UBND tỉnh; UBND cấp huyện", X, "Thực hiện tốt công tác rà soát"),
    (160, "", "5.4", "Sở Nội vụ", X, "Nâng cao năng lực và kỹ năng ứ"),
    (
        161,
        "",
        "5.4",
        "Văn phòng UBND tỉnh; Sở Thông tin và Truyền thông; UBND cấp huyện",
        X,
        "Chú trọng nâng cao chất lượng ",
    ),
    (163, "6.1", "6.3", "UBND cấp huyện", X, "Phát huy tinh thần nhà nước và"),
    (164, "6.2", "6.4", "Công an tỉnh", "", "Thực hiện tốt các chương trình"),
    (
        166,
        "7.1",
        "7.1",
        "Sở Tài nguyên và Môi trường; UBND cấp huyện",
        X,
        "Phát huy vai trò tích cực của ",
    ),
    (168, "7.2", "7.2", "Các ngành liên quan", "", "Giám sát chặt chẽ việc thu gom"),
    (169, "", "7.2", "UBND cấp huyện", "", "Tuyên truyền, vận động người d"),
    (170, "", "7.2", "Sở Tài nguyên và Môi trường", "", "Thực hiện tốt việc thu gom rác"),
    (172, "8.1", "8.2", "Sở Thông tin và Truyền thông", X, "Tăng cường tuyên truyền vận độ"),
    (
        173,
        "",
        "8.2",
        "Văn phòng UBND tỉnh; Sở Thông tin và Truyền thông",
        X,
        "Tổ chức tuyên truyền, nâng cao",
    ),
    (
        176,
        "1.1",
        "1.2",
        "Ủy ban Mặt trận Tổ quốc cấp huyện; UBND cấp xã",
        X,
        "Tạo điều kiện thuận lợi nhất đ",
    ),
    (178, "2.1", "2.1", "Các cơ quan liên quan", X, "Đảm bảo thực hiện quyền tiếp c"),
    (179, "", "2.1", "Các cơ quan liên quan", X, "Bảo đảm thông tin cung cấp phả"),
    (
        180,
        "2.2",
        "2.4",
        "Ủy ban MTTQ cấp huyện; UBND cấp xã; Sở Tài nguyên và Môi trường",
        "",
        "Quy hoạch, kế hoạch sử dụng đấ",
    ),
    (183, "3.1", "3.1", "Ủy ban MTTQ cấp huyện", X, "Chủ động tương tác tích cực vớ"),
    (184, "3.2", "3.2", "", "", "Nâng cao trách nhiệm giải trìn"),
    (186, "4.1", "4.1", "Thanh tra tỉnh", X, "Thường xuyên tuyên truyền, phổ"),
    (187, "", "4.1", "Sở Tài chính; Ủy ban MTTQ cấp huyện", X, "Thực hiện tốt việc thu, chi ng"),
    (188, "4.2", "4.3", "Sở Nội vụ; Ủy ban MTTQ cấp huyện", "", "Tiếp tục thực hiện tốt công tá"),
    (
        189,
        "4.3",
        "4.4",
        "Thanh tra tỉnh; Ủy ban MTTQ cấp huyện",
        "",
        "Xử lý hoặc đề nghị cấp có thẩm",
    ),
    (191, "5.1", "5.4", "Văn phòng UBND tỉnh", X, "Nâng cao chất lượng rà soát đá"),
    (193, "", "5.4", "Văn phòng UBND tỉnh", X, "Cập nhật đầy đủ, kịp thời và n"),
    (194, "", "5.4", "Sở Nội vụ", X, "Nâng cao năng lực và kỹ năng ứ"),
    (
        195,
        "",
        "5.4",
        "Văn phòng UBND tỉnh; Sở Thông tin và Truyền thông",
        X,
        "Chú trọng nâng cao chất lượng ",
    ),
    (197, "6.1", "6.2", "Sở Giáo dục và Đào tạo", X, "Tăng cường đầu tư cơ sở vật ch"),
    (198, "6.2", "6.3", "UBND cấp xã", X, "Chỉ đạo các đơn vị cấp xã trực"),
    (200, "7.1", "7.1", "UBND cấp xã", X, "Đẩy mạnh công tác tuyên truyền"),
    (
        203,
        "8.1",
        "8.1",
        "Văn phòng UBND tỉnh; Sở Thông tin và Truyền thông",
        X,
        "Tăng cường công tác tuyên truy",
    ),
    (204, "8.2", "8.2", "", "", "Tăng cường tuyên truyền vận độ"),
    (205, "8.3", "8.3", "Sở Thông tin và Truyền thông", X, "Nâng cao chất lượng, đổi mới g"),
    (206, "", "8.3", "Sở Thông tin và Truyền thông", X, "Đảm bảo các khúc mắc của cá nh"),
    (
        207,
        "",
        "8.3",
        "Sở Thông tin và Truyền thông; Văn phòng UBND tỉnh",
        X,
        "Tổ chức tuyên truyền, nâng cao",
    ),
    (
        210,
        "1.1",
        "2.4",
        "Văn phòng UBND tỉnh; Sở Thông tin và Truyền thông",
        X,
        "Quy hoạch, kế hoạch sử dụng đấ",
    ),
    (211, "", "2.4", "UBND cấp huyện; UBND cấp xã", X, "Phát huy tính dân chủ trong xâ"),
    (214, "2.1", "5.3", "Văn phòng UBND tỉnh", "", "Nâng cao chất lượng rà soát đá"),
    (216, "3.1", "7.1", "UBND cấp huyện; UBND cấp xã", X, "Tăng cường công tác thanh tra,"),
    (217, "3.2", "7.2", "Các cấp, các ngành liên quan", "", "Giám sát chặt chẽ việc thu gom"),
    (220, "1.1", "3.3", "UBND cấp huyện; UBND cấp xã", X, "Chỉ đạo, đôn đốc Trung tâm trợ"),
    (222, "2.1", "5.1", "Văn phòng UBND tỉnh", X, "Nâng cao chất lượng rà soát đá"),
    (
        225,
        "1.1",
        "4.1",
        "Các sở, ngành; UBND cấp huyện; UBND cấp xã",
        X,
        "Đẩy mạnh công tác thanh tra, k",
    ),
    (226, "1.2", "4.4", "", "", "Xử lý hoặc đề nghị cấp có thẩm"),
    (230, "1.1", "4.2", "UBND cấp huyện; UBND cấp xã", X, "Tăng cường kiểm tra, kiểm soát"),
    (232, "2.1", "6.1", "UBND cấp huyện; UBND cấp xã", X, "Đầu tư nâng cấp một số trang t"),
    (233, "", "6.1", "UBND cấp huyện; UBND cấp xã", X, "Nâng cao trình độ chuyên môn, "),
    (234, "", "6.1", "UBND cấp huyện; UBND cấp xã", X, "Nâng cao chất lượng các Trạm y"),
    (237, "1.1", "4.2", "UBND cấp huyện; UBND cấp xã", X, "Tăng cường kiểm tra, kiểm soát"),
    (239, "2.1", "6.2", "UBND cấp huyện", X, "Tăng cường đầu tư cơ sở vật ch"),
    (240, "", "6.2", "UBND cấp huyện", X, "Nâng cao chất lượng đội ngũ gi"),
    (242, "", "6.2", "UBND cấp huyện", X, "Đẩy mạnh công tác chuyển đổi s"),
    (245, "1.1", "4.3", "Các sở, ngành; UBND cấp huyện", X, "Tiếp tục thực hiện tốt công tá"),
    (248, "1.1", "6.3", "Công ty điện lực Bắc Kạn", X, "Đảm bảo cung cấp điện phục vụ "),
    (251, "1.1", "6.3", "UBND cấp huyện; UBND cấp xã", X, "Tiếp tục thực hiện việc cung c"),
    (254, "1.1", "8.1", "Các sở, ngành; UBND cấp huyện", X, "Tăng cường công tác kiểm tra h"),
    (255, "1.2", "8.2", "UBND cấp huyện; UBND cấp xã", "", "Đẩy mạnh đầu tư hạ tầng công n"),
    (
        258,
        "1.3",
        "8.3",
        "Văn phòng UBND tỉnh; các sở, ban, ngành; UBND cấp huyện; UBND cấp xã",
        "",
        "Tiếp tục nâng cao chất lượng c",
    ),
    (261, "1.1", "8.1", "Sở Thông tin và Truyền thông", X, "Tăng cường công tác tuyên truy"),
    (262, "1.2", "8.3", "", "", "Nâng cao chất lượng, đổi mới g"),
    (265, "1.1", "1.2", "UBND cấp huyện; UBND cấp xã", X, "Xây dựng cơ chế chính sách liê"),
    (268, "2.1", "2.1", "UBND cấp huyện; UBND cấp xã", X, "Đảm bảo thực hiện quyền tiếp c"),
    (270, "3.1", "3.1", "UBND cấp huyện; UBND cấp xã", X, "Chủ động tương tác tích cực vớ"),
    (271, "3.2", "3.2", "", "", "Thực hiện tốt công tác tiếp cô"),
    (273, "4.1", "4.1", "Các ngành liên quan", X, "Thường xuyên tuyên truyền, phổ"),
    (274, "4.2", "4.4", "", "", "Xử lý hoặc đề nghị cấp có thẩm"),
    (276, "5.1", "5.4", "Văn phòng UBND tỉnh", X, "Nâng cao chất lượng rà soát đá"),
    (278, "", "5.4", "Sở Nội vụ", X, "Nâng cao năng lực và kỹ năng ứ"),
    (
        279,
        "",
        "5.4",
        "Văn phòng UBND tỉnh; Sở Nội vụ; Sở Thông tin và Truyền thông",
        X,
        "Chú trọng nâng cao chất lượng ",
    ),
    (281, "6.1", "8.1", "Văn phòng UBND tỉnh", "", "Tăng cường công tác tuyên truy"),
    (282, "6.2", "8.3", "Sở Thông tin và Truyền thông", X, "Nâng cao chất lượng, đổi mới g"),
    (283, "", "8.3", "Văn phòng UBND tỉnh", X, "Đảm bảo các khúc mắc của cá nh"),
    (
        284,
        "",
        "8.3",
        "Sở Thông tin và Truyền thông; Văn phòng UBND tỉnh",
        X,
        "Tổ chức tuyên truyền, nâng cao",
    ),
]


@pytest.fixture(scope="module")
def seed_004() -> ParsedPlan:
    from tests.conftest import SEEDS_DIR

    return parse_plan(SEEDS_DIR / "004_d6a133a28596482b.txt")


def _section_lead(line: int) -> str:
    return [lead for start, lead in SECTIONS if start <= line][-1]


def test_seed_004_row_by_row(seed_004: ParsedPlan) -> None:
    assert len(seed_004.tasks) == len(EXPECTED) == 88
    for task, (line, stt, sub, coordinating, raw, start) in zip(
        seed_004.tasks, EXPECTED, strict=True
    ):
        assert task.source_row == f"line {line}"
        assert task.stt == stt, line
        assert task.lead == [_section_lead(line)], line
        assert task.subdimension == sub, line
        assert task.dimension == int(sub.split(".")[0]), line
        assert task.confidence == 1.0, line
        assert task.coordinating == (coordinating.split("; ") if coordinating else []), line
        assert task.deadline.raw == raw, line
        assert task.text.startswith(start), line


def test_merged_cells_repeat_the_row_above_only_within_a_subdimension(
    seed_004: ParsedPlan,
) -> None:
    by_line = {task.source_row: task for task in seed_004.tasks}
    assert by_line["line 141"].deadline.kind == "term"  # under "Theo nhiệm kỳ" of line 139
    assert by_line["line 141"].coordinating == ["UBND cấp huyện"]
    assert by_line["line 149"].deadline.kind == "unknown"  # first row of 2.4: nothing above
    assert "unknown_deadline" in by_line["line 149"].flags


def test_page_break_continuation_and_markup(seed_004: ParsedPlan) -> None:
    by_line = {task.source_row: task for task in seed_004.tasks}
    assert "line 257" not in by_line
    assert by_line["line 255"].text.endswith(
        "bảo đảm an toàn thông tin mạng tỉnh Bắc Kạn năm 2022; Kế hoạch số 60/KH-UBND ngày "
        "09/02/2022 của UBND tỉnh về thực hiện TTHC trên môi trường điện tử và chuyển đổi số "
        "trong giải quyết TTHC trên địa bàn tỉnh Bắc Kạn năm 2022."
    )
    assert "<i>" not in by_line["line 135"].text
    assert "(tuyên truyền tại các cuộc họp" in by_line["line 135"].text


def test_seed_004_plan_facts(seed_004: ParsedPlan) -> None:
    assert seed_004.year == 2022
    assert seed_004.report_deadlines == ["12-12"]
    sections = {task.section for task in seed_004.tasks}
    assert "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG CHỦ TRÌ THỰC HIỆN" in sections
