"""Seed 003: the "Số TT / Nhiệm vụ trọng tâm" appendix at the end of a plan, row by row."""

from __future__ import annotations

from pathlib import Path

from bot.planimport import parse_plan

ALL = ["Các sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã"]

# stt, start of the text, lead, coordinating, deadline as written, kind, due date
EXPECTED = [
    (
        "1",
        "Xây dựng tiêu chí đánh giá h",
        ["UBND các huyện, thành phố"],
        ["Sở Nội vụ", "các sở, ban, ngành liên quan"],
        "Quý II; triển khai đánh giá trong năm 2024",
        "date",
        "2024-06-30",
    ),
    (
        "2",
        "Triển khai thực hiện có hiệu",
        ["Các sở, ngành", "UBND cấp huyện"],
        ["Sở Nội vụ"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "3",
        "Tổ chức tập huấn, tuyên truy",
        ["Sở Nội vụ"],
        ["Các sở, ngành", "UBND cấp huyện liên quan"],
        "Quý III/2024",
        "date",
        "2024-09-30",
    ),
    (
        "4",
        "Công khai kịp thời, đầy đủ n",
        ["UBND cấp huyện", "UBND cấp xã"],
        ["Các sở, ban, ngành"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "5",
        "Công khai quy hoạch, Kế hoạc",
        ["UBND cấp xã"],
        ["UBND cấp huyện", "Sở Tài nguyên và Môi trường"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "6",
        "Thực hiện nghiêm, đầy đủ các",
        ["UBND cấp xã"],
        ["UBND cấp huyện", "Các sở, ban, ngành"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "7",
        "Nâng cao hiệu quả hoạt động ",
        ["UBND cấp xã"],
        ["UBND cấp huyện", "Các sở, ban, ngành"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "8",
        "Thực hiện nghiêm việc đối th",
        ["UBND cấp huyện", "UBND cấp xã"],
        ["Thanh tra tỉnh", "các sở, ban, ngành liên quan"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "9",
        "Rà soát các vướng mắc, khó k",
        ["UBND cấp xã"],
        ["Các phòng, ban thuộc UBND cấp huyện"],
        "Năm 2024",
        "date",
        "2024-12-31",
    ),
    (
        "10",
        "Bồi dưỡng, nâng cao năng lực",
        ["UBND cấp xã"],
        ["UBND cấp huyện", "Ủy ban MTTQ cấp huyện", "Ủy ban MTTQ cấp xã"],
        "Năm 2024",
        "date",
        "2024-12-31",
    ),
    (
        "11",
        "Tập trung thanh tra những nộ",
        ["Thanh tra tỉnh"],
        ["Các cơ quan, đơn vị có liên quan"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "12",
        "Công khai đầy đủ TTHC, phí, ",
        ALL,
        ["Văn phòng UBND tỉnh", "Sở Nội vụ"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "13",
        "Đầu tư, cải tạo, nâng cấp cơ",
        ["Sở Y tế"],
        ["UBND cấp huyện", "Sở Kế hoạch và Đầu tư", "Sở Tài chính"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "14",
        "Tiếp tục đầu tư xây dựng cơ ",
        ["UBND cấp huyện"],
        ["Sở Giáo dục và Đào tạo", "Sở Kế hoạch và Đầu tư", "Sở Tài chính"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "15",
        "Nâng cao chất lượng cung cấp",
        ["UBND cấp huyện"],
        [
            "Sở Xây dựng",
            "Sở Nông nghiệp và Phát triển nông thôn",
            "Sở Công Thương",
            "Công an tỉnh",
            "UBND cấp xã",
        ],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "16",
        "Kiểm tra, hướng dẫn việc tuâ",
        ["Sở Tài Nguyên và Môi trường", "UBND cấp huyện", "UBND cấp xã"],
        ["Các cơ quan, đơn vị có liên quan"],
        "Thường xuyên",
        "recurring",
        None,
    ),
    (
        "17",
        "Đăng tải đầy đủ, kịp thời cá",
        ALL,
        ["Sở Thông tin và Truyền thông"],
        "Thường xuyên",
        "recurring",
        None,
    ),
]


def test_seed_003_row_by_row(seeds_dir: Path) -> None:
    plan = parse_plan(seeds_dir / "003_a94ea9f0ba2d1e58.txt")
    assert len(plan.tasks) == 17
    for task, (stt, start, lead, coordinating, raw, kind, due) in zip(
        plan.tasks, EXPECTED, strict=True
    ):
        assert task.stt == stt
        assert task.text.startswith(start), stt
        assert (task.lead, task.coordinating) == (lead, coordinating), stt
        assert task.deadline.raw == raw, stt
        assert task.deadline.kind == kind, stt
        assert (str(task.deadline.due) if task.deadline.due else None) == due, stt


def test_seed_003_plan_facts(seeds_dir: Path) -> None:
    plan = parse_plan(seeds_dir / "003_a94ea9f0ba2d1e58.txt")
    assert plan.year == 2024
    assert plan.number == "99/KH-UBND"
    assert plan.title.startswith("Duy trì, cải thiện và nâng cao Chỉ số")
    first = plan.tasks[0]
    assert first.deadline.note == "triển khai đánh giá trong năm 2024"
    assert first.text.endswith("của Chủ tịch UBND tỉnh Thái Nguyên.")
    assert plan.tasks[16].text.endswith("Cổng dịch vụ công quốc gia.")


def test_year_option_applies_where_the_text_gives_none(seeds_dir: Path) -> None:
    plan = parse_plan(seeds_dir / "003_a94ea9f0ba2d1e58.txt", year=2025)
    assert plan.year == 2025
    assert str(plan.tasks[0].deadline.due) == "2025-06-30"  # "Quý II": the given year
    assert str(plan.tasks[2].deadline.due) == "2024-09-30"  # "Quý III/2024" says its own
