"""/tonghop, /baocao and the commune rank line, with their permissions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session

from bot.reports.requests import render_request
from handlers.context import ConversationSettings, HandlerContext
from handlers.reports import commune_rank_line, province_summary, report_files
from handlers.types import Inbound, Outbound, Reply, ReportKind, ReportRequest
from storage.models import Official
from storage.person import Person
from tests.reports.dataset import NOW, Dataset, build_three_level


def _official(session: Session, data: Dataset, unit: str, role: str, phone: str) -> Official:
    official = Official(
        name=f"{role} {unit}", phone=phone, unit_id=data.units[unit].id or 0, role=role
    )
    session.add(official)
    session.flush()
    return official


def _ctx(session: Session, official: Official, tmp_path: Path) -> HandlerContext:
    inbound = Inbound(
        channel="telegram", external_user_id="1", chat_id="1", update_key="1", received_at=NOW
    )
    person = Person.of(official)
    return HandlerContext(session, ConversationSettings(), NOW, inbound, official=person)


def _answer(session: Session, replies: Sequence[Reply], tmp_path: Path) -> list[Outbound]:
    """What the edge sends: each report request rendered (files under ``tmp_path``)."""
    out: list[Outbound] = []
    for reply in replies:
        if isinstance(reply, ReportRequest):
            out += render_request(session, reply, data_dir=tmp_path, silence_days=21, now=NOW)
        else:
            out.append(reply)
    return out


def test_summary_for_the_coordinator(session: Session, tmp_path: Path) -> None:
    data = build_three_level(session)
    coordinator = _official(session, data, "S", "coordinator", "+84900000001")
    [request] = province_summary(_ctx(session, coordinator, tmp_path))
    assert isinstance(request, ReportRequest) and request.kind == ReportKind.SUMMARY
    [reply] = _answer(session, [request], tmp_path)
    assert reply.text.startswith("Tỉnh Bắc Giang — quý III/2024\nHoàn thành 4/11 (36,4%)")


def test_summary_for_a_chair_is_their_commune(session: Session, tmp_path: Path) -> None:
    data = build_three_level(session)
    chair = _official(session, data, "C2", "chair", "+84900000002")
    chair.locale = "en"
    [reply] = _answer(session, province_summary(_ctx(session, chair, tmp_path)), tmp_path)
    assert reply.text.startswith("Xã Nham Sơn — quarter III/2024\n1/3 done (33.3%)")


def test_plain_officials_are_refused(session: Session, tmp_path: Path) -> None:
    data = build_three_level(session)
    official = _official(session, data, "C1", "official", "+84900000003")
    ctx = _ctx(session, official, tmp_path)
    assert _answer(session, province_summary(ctx), tmp_path)[0].text == (
        "Chức năng báo cáo dành cho cán bộ đầu mối Sở Nội vụ và Chủ tịch UBND xã."
    )
    assert _answer(session, report_files(ctx, "2024-Q3"), tmp_path)[0].file is None
    assert not any(isinstance(r, ReportRequest) for r in report_files(ctx, "2024-Q3"))
    assert commune_rank_line(ctx, data.units["C1"].id or 0) is None
    assert not (tmp_path / "reports").exists()


def test_report_files(session: Session, tmp_path: Path) -> None:
    data = build_three_level(session)
    coordinator = _official(session, data, "S", "coordinator", "+84900000001")
    [request] = report_files(_ctx(session, coordinator, tmp_path), "2024-Q3")
    assert isinstance(request, ReportRequest) and request.kind == ReportKind.FILES
    assert request.period.label == "2024-Q3" and request.formats == ("xlsx", "docx")
    assert not (tmp_path / "reports").exists()  # the handler renders nothing itself
    first, second = _answer(session, [request], tmp_path)
    assert first.text == "Báo cáo Tỉnh Bắc Giang, quý III/2024: hoàn thành 4/11 (36,4%)."
    assert first.file is not None and second.file is not None
    assert first.file.file_name.endswith(".xlsx") and second.file.file_name.endswith(".docx")
    assert Path(first.file.path).parent == tmp_path / "reports"
    sheet = load_workbook(first.file.path)["Tổng hợp"]
    assert sheet["B5"].value == 11 and sheet["E5"].value == 4
    assert "BÁO CÁO" in [p.text for p in Document(second.file.path).paragraphs]


def test_report_files_bad_period(session: Session, tmp_path: Path) -> None:
    data = build_three_level(session)
    coordinator = _official(session, data, "S", "coordinator", "+84900000001")
    [reply] = _answer(
        session, report_files(_ctx(session, coordinator, tmp_path), "quý 9"), tmp_path
    )
    assert reply.text.startswith("Không hiểu kỳ báo cáo quý 9.") and reply.file is None
    assert not (tmp_path / "reports").exists()


def test_commune_rank_line(session: Session, tmp_path: Path) -> None:
    data = build_three_level(session)
    chair = _official(session, data, "C2", "chair", "+84900000002")
    ctx = _ctx(session, chair, tmp_path)
    assert commune_rank_line(ctx, data.units["C2"].id or 0) == "Xếp hạng 3/3 xã của tỉnh"
    # another commune is outside the chair's scope
    assert commune_rank_line(ctx, data.units["C1"].id or 0) is None
    coordinator = _official(session, data, "S", "coordinator", "+84900000001")
    line = commune_rank_line(_ctx(session, coordinator, tmp_path), data.units["C1"].id or 0)
    assert line == "Xếp hạng 1/3 xã của tỉnh"
