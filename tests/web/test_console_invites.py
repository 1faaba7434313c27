"""The invite sheet: DOCX or PDF, A4, each official's name (with its diacritics), code and a
QR code per channel — the Telegram deep link, and the Zalo Bot's link when it is set."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.web.invite_sheet import SheetChannels, qr_png, telegram_link
from kernel.clock import FixedClock
from storage.invites import check_invite, looks_like_invite_code
from storage.models import AuditEntry
from tests.web.conftest import Client, Tree, csrf_of, sign_in

ZALO_LINK = "https://zalo.me/2961234567890123456"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "app": {"data_dir": str(tmp_path / "data")},
            "telegram": {"bot_username": "papi_test_bot"},
            "zalo": {"bot_link": ZALO_LINK},
        }
    )


def _codes(text: str) -> list[str]:
    return [word for word in text.split() if looks_like_invite_code(word)]


async def test_the_pdf_sheet_prints_vietnamese_names_codes_and_both_qr_codes(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    page = await (await client.get("/invites")).text()
    assert 'value="pdf"' in page
    sheet = await client.post(
        "/invites", data={"csrf": token, "unit_id": str(tree.commune_a.id), "format": "pdf"}
    )
    assert sheet.status == 200 and sheet.content_type == "application/pdf"
    reader = PdfReader(io.BytesIO(await sheet.read()))
    page_one = reader.pages[0]
    assert (round(float(page_one.mediabox.width)), round(float(page_one.mediabox.height))) == (
        595,
        842,
    )  # A4 in points
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Lê Thị Hoa" in text and "Xã An Lạc" in text  # diacritics survive (embedded font)
    assert "Mã mời — Xã An Lạc" in text and "quét mã QR Zalo" in text
    fonts = {
        str(font["/BaseFont"])
        for font in page_one["/Resources"]["/Font"].values()  # type: ignore[index]
    }
    assert any("DejaVu" in name for name in fonts)
    with Session(engine) as session:  # the printed code is the live one
        found = [check_invite(session, code, clock.now()) for code in _codes(text)]
        assert any(getattr(f, "official_id", None) == tree.official.id for f in found)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "invites.issue")).one()
        assert entry.detail == {"count": 1, "format": "pdf"}
    images = [image for p in reader.pages for image in p.images]
    assert len(images) == 2  # one official: a Telegram and a Zalo QR code


async def test_the_docx_sheet_has_a_zalo_qr_of_the_bot_link(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    sheet = await client.post(
        "/invites", data={"csrf": token, "unit_id": str(tree.commune_a.id), "format": "docx"}
    )
    document = docx.Document(io.BytesIO(await sheet.read()))
    table = document.tables[0]
    assert [cell.text for cell in table.rows[0].cells][-2:] == ["Telegram", "Zalo"]
    code = _codes(table.rows[1].cells[2].text)[0]
    blobs = [
        shape._inline.graphic.graphicData.pic.blipFill.blip.embed
        for shape in document.inline_shapes
    ]
    parts = [document.part.related_parts[rid].blob for rid in blobs]
    assert parts == [
        qr_png(telegram_link("papi_test_bot", code) or "").getvalue(),
        qr_png(ZALO_LINK).getvalue(),
    ]
    assert f"gửi: {code}" in table.rows[1].cells[4].text  # Zalo has no start parameter


def test_without_a_zalo_link_the_sheet_has_no_zalo_column() -> None:
    from datetime import UTC, datetime

    from bot.web.invite_sheet import SheetRow
    from bot.web.invites import write_sheet

    rows = [
        SheetRow("Đặng Văn Ánh", "Xã An Lạc", "Cán bộ", "CODE1", datetime(2026, 7, 1, tzinfo=UTC))
    ]
    document = docx.Document(io.BytesIO(write_sheet("Mã mời", rows, "papi_test_bot")))
    assert "Zalo" not in [cell.text for cell in document.tables[0].rows[0].cells]
    assert len(document.inline_shapes) == 1
    assert SheetChannels("", "http://insecure").has_zalo is False
    with pytest.raises(ValueError):
        Settings.model_validate({"zalo": {"bot_link": "zalo.me/123"}})


async def test_invites_are_refused_outside_the_area_and_without_csrf(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    no_csrf = await client.post("/invites", data={"unit_id": str(tree.commune_a.id)})
    assert no_csrf.status == 403
    odd = await client.post(
        "/invites", data={"csrf": token, "unit_id": str(tree.commune_a.id), "format": "odt"}
    )
    assert odd.status == 400
    with Session(engine) as session:
        assert (
            session.exec(select(AuditEntry).where(AuditEntry.action == "invites.issue")).all() == []
        )
    client.session.cookie_jar.clear()  # a district coordinator: not an admin, not for invites
    await sign_in(client, engine, clock, tree.district_coordinator)
    assert (await client.get("/invites")).status == 403
    csrf = csrf_of(await (await client.get("/officials")).text())
    refused = await client.post(
        "/invites", data={"csrf": csrf, "unit_id": str(tree.commune_a.id), "format": "pdf"}
    )
    assert refused.status == 403


def test_with_an_oa_link_the_sheet_has_a_zalo_oa_qr_and_says_to_send_the_code() -> None:
    from datetime import UTC, datetime

    from bot.web.invite_sheet import SheetRow, sheet_instructions
    from bot.web.invites import write_sheet

    oa = "https://zalo.me/1234567890123456789"
    rows = [
        SheetRow("Đặng Văn Ánh", "Xã An Lạc", "Cán bộ", "CODE1", datetime(2026, 7, 1, tzinfo=UTC))
    ]
    data = write_sheet("Mã mời", rows, "papi_test_bot", ZALO_LINK, oa)
    table = docx.Document(io.BytesIO(data)).tables[0]
    assert [cell.text for cell in table.rows[0].cells][-3:] == ["Telegram", "Zalo", "Zalo OA"]
    assert "CODE1" in table.rows[1].cells[5].text
    document = docx.Document(io.BytesIO(data))
    blobs = [s._inline.graphic.graphicData.pic.blipFill.blip.embed for s in document.inline_shapes]
    assert document.part.related_parts[blobs[-1]].blob == qr_png(oa).getvalue()
    channels = SheetChannels("papi_test_bot", "", oa)
    assert [label for label, _link in channels.links("X")] == ["Telegram", "Zalo OA"]
    assert "Zalo OA" in sheet_instructions(channels)
    with pytest.raises(ValueError):
        Settings.model_validate({"zalo": {"oa": {"link": "zalo.me/123"}}})
