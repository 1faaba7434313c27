"""Bad input: one clear message naming the file (and row)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.planimport import PlanFormatError, parse_plan


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlanFormatError, match=r"nope\.txt: no such file"):
        parse_plan(tmp_path / "nope.txt")


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(PlanFormatError, match=r"empty\.txt: the file is empty"):
        parse_plan(path)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "plan.pdf"
    path.write_bytes(b"%PDF-1.4 ...")
    with pytest.raises(PlanFormatError, match=r"plan\.pdf: unknown format \.pdf"):
        parse_plan(path)


def test_text_without_a_header(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("1\tMột việc\tSở Nội vụ\n2\tViệc khác\tSở Y tế\n", encoding="utf-8")
    with pytest.raises(PlanFormatError, match=r"notes\.txt: no recognisable table header"):
        parse_plan(path)


def test_header_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.txt"
    path.write_text("STT\tNhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\n", encoding="utf-8")
    with pytest.raises(PlanFormatError, match=r"header\.txt: the table under the header"):
        parse_plan(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("STT\tNhiệm vụ\n".encode("utf-16"))
    with pytest.raises(PlanFormatError, match=r"latin\.txt: not UTF-8 text"):
        parse_plan(path)


def test_header_variants_are_matched_without_case_spaces_or_diacritics(tmp_path: Path) -> None:
    path = tmp_path / "variant.txt"
    path.write_text(
        "so tt\tNHIEM VU TRONG TAM\tCơ quan  chủ trì\tco quan phoi hop\tThời gian thực hiện\n"
        "1\tTiếp công dân định kỳ\tUBND cấp xã\t\tQuý II/2025\n",
        encoding="utf-8",
    )
    plan = parse_plan(path)
    assert [(t.stt, t.lead, str(t.deadline.due)) for t in plan.tasks] == [
        ("1", ["UBND cấp xã"], "2025-06-30")
    ]


def test_section_rows_set_the_lead_only_when_they_name_it(tmp_path: Path) -> None:
    path = tmp_path / "sections.txt"
    path.write_text(
        "STT\tNhiệm vụ\tCơ quan chủ trì\tThời gian hoàn thành\n"
        "I\tNHÓM NHIỆM VỤ CHUNG\t\t\n"
        "1\tTiếp công dân định kỳ\t\tNăm 2025\n"
        "II\tSỞ TƯ PHÁP CHỦ TRÌ THỰC HIỆN\t\t\n"
        "2\tTuyên truyền trợ giúp pháp lý\t\tNăm 2025\n"
        "3\tRà soát chứng thực\tUBND cấp xã\tNăm 2025\n",
        encoding="utf-8",
    )
    first, second, third = parse_plan(path).tasks
    assert (first.section, first.lead, first.flags) == (
        "NHÓM NHIỆM VỤ CHUNG",
        [],
        ["no_lead_agency"],
    )
    assert second.lead == ["Sở Tư pháp"]
    assert third.lead == ["UBND cấp xã"]
