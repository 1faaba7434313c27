"""Seed 001 (Bắc Giang 2021): a scanned plan with no table. Its tasks are the lettered items
under the six dimension headings of "NỘI DUNG THỰC HIỆN" and the agencies' duties under "TỔ
CHỨC THỰC HIỆN"; the expected items below are counted from the text by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.planimport import ParsedPlan, ParsedTask, parse_plan

SEED_001 = "001_4fec8051db42b886.txt"

# (printed number, dimension, first words) of every item of the six dimension sections.
DIMENSION_ITEMS = [
    ("1.a", 1, "Trién khai thuc hién tot cac van ban"),
    ("1.b", 1, "Tuyen truyén, phd bién phap luat"),
    ("1.c", 1, "Tao diéu kién thuan lgi"),
    ("1.d", 1, "Hudng dan, don ddc, kiém tra"),
    ("2.a", 2, "Thuc hién diéu tra, ra soat"),
    ("2.b", 2, "Thuc hién dung, du quy dinh"),
    ("2.c", 2, "Cong khai quy hoach, ké hoach"),
    ("3.a", 4, "Tuyén truyén phd bién cac quy dinh"),
    ("3.b", 4, "Tat ca TTHC thudc tham quyen"),
    ("3.c", 4, "T6 chirc khao sat danh gia"),
    ("4.a", 6, "Nang cao chat luong cong tac kham"),
    ("4.b", 6, "Tang cudng dau tu cho cong tac gido duc"),
    ("4.c", 6, "Cai thién co so ha tang can ban"),
    ("4.d", 6, "Pam bao an ninh chinh tri"),
    ("5.a", 7, "Tang cudng cong tac phong ngira"),
    ("5.b", 7, "Thyc hién hiéu qua Chi thi s6 17-CT/TU"),
    ("5.c", 7, "Pay nhanh tién do cap nudc sach"),
    ("6.a", 8, "Pho bién, tuyén truyén dé ngudi dan"),
    ("6.b", 8, "Nang cao chat luong phuc vy"),
    ("6.c", 8, "Tuyén truyén téi nguoi dan vé tién ich"),
    ("6.d", 8, "Tiép nhan diy du ¥ kién"),
]
SCORES = {"1": 5.48, "2": 5.51, "4": 6.98, "6": 7.13, "7": 3.27, "8": 3.19}


@pytest.fixture(scope="module")
def plan() -> ParsedPlan:
    from tests.conftest import SEEDS_DIR

    return parse_plan(SEEDS_DIR / SEED_001)


def _dimension_tasks(plan: ParsedPlan) -> list[ParsedTask]:
    return [t for t in plan.tasks if not t.stt.startswith("IV.")]


def test_the_six_dimension_sections_give_their_items(plan: ParsedPlan) -> None:
    tasks = _dimension_tasks(plan)
    assert [(t.stt, t.dimension) for t in tasks] == [(s, d) for s, d, _w in DIMENSION_ITEMS]
    for task, (_stt, _dim, first) in zip(tasks, DIMENSION_ITEMS, strict=True):
        assert task.text.startswith(first), (task.stt, task.text[:60])
        assert task.confidence == 1.0
        assert task.subdimension is None or task.subdimension.startswith(f"{task.dimension}.")
    assert {t.dimension for t in tasks} == {1, 2, 4, 6, 7, 8}


def test_each_section_states_its_score(plan: ParsedPlan) -> None:
    assert plan.scores == SCORES
    assert plan.scores_year == 2020  # "giảm 0,1 điểm so với năm 2019": the 2020 scores
    first = _dimension_tasks(plan)[0]
    assert first.section is not None and first.section.startswith("Chi s6 ndi dung 1")
    assert first.section.endswith("cap co so")  # the heading up to its score


def test_the_plan_itself(plan: ParsedPlan) -> None:
    assert plan.year == 2021
    assert plan.report_deadlines == ["03-20", "06-20", "11-30"]


def test_item_text_is_kept_as_the_file_has_it_with_lines_and_paragraphs_joined(
    plan: ParsedPlan,
) -> None:
    by_stt = {t.stt: t for t in plan.tasks}
    assert by_stt["1.a"].text.startswith(
        "Trién khai thuc hién tot cac van ban hudng dan vé bau cu. Tuyén truyén pho bién"
    )
    assert "34/2007/PL-UBTVQH11" in by_stt["1.b"].text  # hyphenated at the line end
    paragraphs = by_stt["2.a"].text.split("\n")
    assert [p[:20] for p in paragraphs] == [
        "Thuc hién diéu tra, ",
        "Tiép thu y kién dong",
        "Xtr 1y kip thoi, ngh",
    ]
    assert "https://" not in by_stt["6.b"].text  # the web link under it is a page footer
    assert by_stt["6.b"].text.endswith("Heé thong thong tin mot cira dién tir ciia tinh.")


def test_no_purpose_requirement_or_closing_sentence_becomes_a_task(plan: ParsedPlan) -> None:
    not_tasks = [
        "Nang cao hiéu qua hoat dong",  # I.1 Mục đích
        "Phat huy su tham gia",
        "Nang cao trach nhiém ciia ngudi",
        "Viéc thuc hién ké hoach nang cao",  # I.2 Yêu cầu
        "Ké hoach dugc trién khai",
        "Viéc nang cao chi s6 PAPI",
        "Chi s6 ndi dung",  # the headings and their score descriptions
        "Néi dung can thzc hign",
        "Giam dbc cac So",  # III: to keep up, not a task
        "Chu tich UBND tinh yéu cau",  # the closing request
        "Noi nhén",
    ]
    for task in plan.tasks:
        assert not any(task.text.startswith(words) for words in not_tasks), task.text[:60]
    assert all("Muc dich" not in (t.section or "") for t in plan.tasks)


def test_the_home_affairs_duties_are_led_by_so_noi_vu(plan: ParsedPlan) -> None:
    duties = [t for t in plan.tasks if t.stt.startswith("IV.2.")]
    assert [t.text[:30] for t in duties] == [
        "La co quan thuong tryc gilp Ch",
        "Tang cuong kiém tra, thanh tra",
    ]
    assert all(t.lead == ["Sở Nội vụ"] for t in duties)
    assert all("no_lead_agency" not in t.flags for t in duties)


def test_the_other_agencies_lead_their_duties(plan: ParsedPlan) -> None:
    leads = {t.stt: t.lead for t in plan.tasks if t.stt.startswith("IV.")}
    assert leads["IV.1.a"] == ["Các sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã"]
    assert leads["IV.1.d.1"] == ["UBND cấp huyện"]  # "đ) Ngoài các nhiệm vụ trên, UBND cấp huyện:"
    assert leads["IV.3.1"] == ["Văn phòng UBND tỉnh"]
    assert leads["IV.6.1"] == ["Sở Y tế"]  # the heading was scanned as "6.56 Y té"
    assert leads["IV.7.3"] == ["Sở Tài nguyên và Môi trường"]
    assert leads["IV.10"] == ["Ủy ban MTTQ Việt Nam tỉnh"]  # "Đề nghị Ủy ban … chủ trì, …"
    assert leads["IV.11"] == ["Đài Phát thanh và Truyền hình tỉnh", "Bao Bic Giang"]


def test_a_duty_that_repeats_a_dimension_item_leads_it_instead_of_doubling_it(
    plan: ParsedPlan,
) -> None:
    by_stt = {t.stt: t for t in plan.tasks}
    assert by_stt["6.d"].lead == ["Sở Thông tin và Truyền thông"]
    assert "no_lead_agency" not in by_stt["6.d"].flags
    telecoms = [t.text[:20] for t in plan.tasks if t.stt.startswith("IV.8.")]
    assert telecoms == ["Tang cudng quan ly C"]  # its second duty is item 6.d


def test_flags_for_review(plan: ParsedPlan) -> None:
    assert all("from_prose" in t.flags for t in plan.tasks)
    assert all("ocr_damaged" in t.flags for t in _dimension_tasks(plan))
    unled = [t.stt for t in _dimension_tasks(plan) if "no_lead_agency" in t.flags]
    assert len(unled) == 20 and "6.d" not in unled
    for task in plan.tasks:
        assert task.deadline.kind == "recurring" and task.deadline.raw == "Thường xuyên"
        assert "deadline_assumed" in task.flags and "unknown_deadline" not in task.flags


def test_the_table_seeds_never_go_to_the_prose_reader(seeds_dir: Path) -> None:
    counts = {"000": 22, "002": 22, "003": 17, "004": 88}  # as in their own tests
    for prefix, count in counts.items():
        plan = parse_plan(next(seeds_dir.glob(f"{prefix}_*.txt")))
        assert len(plan.tasks) == count, prefix
        assert not any("from_prose" in t.flags for t in plan.tasks), prefix
        assert plan.scores == {}, prefix
