"""Every view and form of the console over HTTP: figures, downloads, plan import, officials."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
from aiohttp import FormData
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.config import Settings
from kernel.clock import FixedClock
from storage.models import Assignment, AuditEntry, Official, Plan, Task
from tests.web.conftest import Client, Tree, sign_in


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def upload_form(csrf: str, name: str, data: bytes, **fields: str) -> FormData:
    form = FormData()
    form.add_field("csrf", csrf)
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def test_dashboard_shows_the_rollup_and_changes_with_a_status(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.coordinator)
    page = await (await client.get(f"/units/{tree.province.id}?period=year")).text()
    assert 'data-figure="done">0<' in page
    assert tree.district_a.name in page and "<svg" in page
    with Session(engine) as session:
        assignment = session.exec(
            select(Assignment).where(col(Assignment.unit_id) == tree.commune_a.id)
        ).first()
        assert assignment is not None
        assignment.status, assignment.percent, assignment.done_at = "done", 100, clock.now()
        assignment.last_update_at = clock.now()
        session.add(assignment)
        session.commit()
        assignment_id = assignment.id
    page = await (await client.get(f"/units/{tree.province.id}?period=year")).text()
    assert 'data-figure="done">1<' in page
    detail = await client.get(f"/assignments/{assignment_id}")
    assert detail.status == 200 and "Hoàn thành" in await detail.text()
    drill = await client.get(f"/units/{tree.district_a.id}?period=year")
    assert tree.commune_a.name in await drill.text()
    assert (await client.get(f"/units/{tree.province.id}?period=nonsense")).status == 400


async def test_reports_and_tables_download(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.coordinator)
    report = await client.get(f"/units/{tree.province.id}/report.docx?period=2026")
    assert report.status == 200
    document = docx.Document(io.BytesIO(await report.read()))
    text = "\n".join(p.text for p in document.paragraphs).upper()
    assert "BÁO CÁO" in text and "0/28" in text  # the Nghị định 30/2020 layout, the figures
    for fmt in ("xlsx", "csv", "png"):
        assert (await client.get(f"/units/{tree.province.id}/report.{fmt}")).status == 200
    table = await client.get(f"/units/{tree.province.id}/table/units.xlsx")
    sheet = load_workbook(io.BytesIO(await table.read())).active
    assert sheet is not None
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert tree.district_a.name in names
    assert (await client.get(f"/units/{tree.province.id}/table/secrets.xlsx")).status == 404


async def test_a_signed_link_downloads_without_a_session_until_it_is_tampered(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.coordinator)
    made = await client.post(
        f"/units/{tree.province.id}/link", data={"csrf": token, "period": "2026", "format": "docx"}
    )
    url = (await made.json())["url"]
    path = url[url.index("/download/") :]
    client.session.cookie_jar.clear()
    assert (await client.get(path)).status == 200
    assert (await client.get(path[:-3] + "abc")).status == 404


async def test_plan_upload_review_fix_and_commit(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree, seeds_dir: Path
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    before = count(engine, Plan)
    seed = sorted(seeds_dir.glob("000_*.txt"))[0].read_bytes()  # noqa: ASYNC240
    review = await client.post(
        "/plans/upload", data=upload_form(token, "ke-hoach.txt", seed, year="2026")
    )
    html = await review.text()
    assert review.status == 200 and "<select" in html
    assert "unresolved" in html  # agencies of the real plan that this test province lacks
    review_path = str(review.url.path)
    first = re.search(r'name="dim-0".*?<option value="(\d)"[^>]*selected', html, re.S)
    chosen = "8" if first is None or first.group(1) != "8" else "7"
    form = {"csrf": token, "dim-0": chosen, "action": "save"}
    saved = await client.post(review_path, data=form)
    assert re.search(rf'name="dim-0".*?<option value="{chosen}" selected', await saved.text(), re.S)
    assert count(engine, Plan) == before  # nothing stored before the commit
    committed = await client.post(review_path, data={**form, "action": "commit"})
    assert committed.status == 200 and "#" in await committed.text()
    with Session(engine) as session:
        plan = session.exec(select(Plan).order_by(col(Plan.id).desc())).first()
        assert plan is not None and plan.source_file == "ke-hoach.txt"
        task = session.exec(select(Task).where(Task.plan_id == plan.id, Task.order == 1)).one()
        assert task.dimension == int(chosen)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "plan.import")).one()
        assert entry.detail is not None and entry.detail["edits"] == 1


async def test_bad_plan_uploads_are_explained_and_write_nothing(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree, settings: Settings
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    before = count(engine, Plan)
    cases = [
        ("plan.docx", b"PK-not really a zip", "DOCX"),
        ("plan.csv", "cột một,cột hai\n1,2\n".encode(), "plan.csv"),
        ("plan.exe", b"MZ", ".docx"),
    ]
    for name, data, words in cases:
        response = await client.post("/plans/upload", data=upload_form(token, name, data))
        text = await response.text()
        assert response.status == 400, name
        assert words in text and "/tmp" not in text, text[-1500:]
    assert count(engine, Plan) == before
    uploads = Path(settings.app.data_dir) / "console-uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


async def test_deactivate_and_move_an_official_is_audited(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    form = {
        "csrf": token,
        "name": tree.official.name,
        "role": "official",
        "unit_id": str(tree.commune_b.id),
    }
    response = await client.post(f"/officials/{tree.official.id}", data=form, allow_redirects=False)
    assert response.status == 302
    with Session(engine) as session:
        official = session.get(Official, tree.official.id)
        assert (
            official is not None and not official.active and official.unit_id == tree.commune_b.id
        )
    audit = await (await client.get("/audit")).text()
    assert "official.deactivate" in audit and tree.admin.name in audit
    empty = await client.post(f"/officials/{tree.official.id}", data={**form, "name": " "})
    assert empty.status == 400
    outside = await client.post(f"/officials/{tree.official.id}", data={**form, "unit_id": "999"})
    assert outside.status == 404


async def test_officials_import_previews_bad_rows_with_line_numbers(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    before = count(engine, Official)
    bad = "name,phone,unit_code,role,locale\nAn,0912345678,XA,official,vi\nBình,12,NOPE,boss,vi\n"
    response = await client.post(
        "/import/officials", data=upload_form(token, "can-bo.csv", bad.encode())
    )
    text = await response.text()
    assert response.status == 400 and "3" in text and "NOPE" in text
    assert count(engine, Official) == before
    wrong = await client.post("/import/officials", data=upload_form(token, "x.csv", b"a,b\n1,2\n"))
    assert wrong.status == 400 and "unit_code" in await wrong.text()
    good = "name,phone,unit_code,role,locale\nAn,0912345678,XA,official,vi\n"
    preview = await client.post(
        "/import/officials", data=upload_form(token, "can-bo.csv", good.encode())
    )
    html = await preview.text()
    assert preview.status == 200 and count(engine, Official) == before
    pending = re.search(r'name="token" value="([^"]+)"', html)
    assert pending
    done = await client.post("/import/officials", data={"csrf": token, "token": pending.group(1)})
    assert done.status == 200 and count(engine, Official) == before + 1


async def test_add_an_official_and_refuse_a_taken_phone(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    assert (await client.get("/officials/new")).status == 200
    form = {
        "csrf": token,
        "name": "Trần Văn Mới",
        "phone": "0977 123 456",
        "unit_id": str(tree.commune_b.id),
        "role": "official",
        "locale": "vi",
    }
    added = await client.post("/officials/new", data=form, allow_redirects=False)
    assert added.status == 302
    again = await client.post("/officials/new", data=form)
    assert again.status == 400 and "số điện thoại" in await again.text()
    with Session(engine) as session:
        found = session.exec(select(Official).where(Official.phone == "+84977123456")).one()
        assert found.unit_id == tree.commune_b.id
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "official.add")).one()


async def test_units_import_preview_then_write(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    text = "code,name,level,parent_code\nXC,Xã Cẩm Lý,commune,DA\nXD,Xã Lỗi,village,DA\n"
    bad = await client.post("/import/units", data=upload_form(token, "dv.csv", text.encode()))
    assert bad.status == 400 and "3" in await bad.text()
    from storage.models import Unit

    before = count(engine, Unit)
    good = text.splitlines()[:2]
    preview = await client.post(
        "/import/units", data=upload_form(token, "dv.csv", ("\n".join(good) + "\n").encode())
    )
    pending = re.search(r'name="token" value="([^"]+)"', await preview.text())
    assert pending and count(engine, Unit) == before
    await client.post("/import/units", data={"csrf": token, "token": pending.group(1)})
    assert count(engine, Unit) == before + 1


async def test_an_invite_sheet_for_a_commune(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    assert (await client.get("/invites")).status == 200
    sheet = await client.post("/invites", data={"csrf": token, "unit_id": str(tree.commune_a.id)})
    assert sheet.status == 200
    document = docx.Document(io.BytesIO(await sheet.read()))
    cells = [cell.text for row in document.tables[0].rows for cell in row.cells]
    from storage.invites import check_invite, looks_like_invite_code

    codes = [line for cell in cells for line in cell.split("\n") if looks_like_invite_code(line)]
    with Session(engine) as session:  # only the hash is stored: the printed code must match it
        found = [check_invite(session, code, clock.now()) for code in codes]
    assert any(getattr(f, "official_id", None) == tree.official.id for f in found)
    assert any(tree.official.name in cell for cell in cells)
    section = document.sections[0]
    width, height = section.page_width, section.page_height
    assert width is not None and height is not None
    assert round(width.cm) == 21 and round(height.cm) == 30  # A4


def test_the_sheet_has_a_qr_code_of_the_telegram_link_per_official() -> None:
    from datetime import UTC, datetime

    from bot.web.invites import SheetRow, telegram_link, write_sheet

    when = datetime(2026, 7, 1, tzinfo=UTC)
    rows = [SheetRow("An", "Xã An Lạc", "official", f"CODE{n}", when) for n in range(3)]
    document = docx.Document(io.BytesIO(write_sheet("Mã mời", rows, "@papi_demo_bot")))
    assert len(document.inline_shapes) == 3
    assert telegram_link("@papi_demo_bot", "AB12") == "https://t.me/papi_demo_bot?start=AB12"


async def test_officials_and_audit_tables_export_to_xlsx_within_the_area(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.district_coordinator)
    response = await client.get("/officials.xlsx")
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert tree.official.name in names and tree.admin.name not in names
    audit = await client.get("/audit?format=xlsx")
    rows = list(load_workbook(io.BytesIO(await audit.read())).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert any(row[2] == "login" for row in rows[1:])


async def test_the_period_picker_offers_the_periods_before_too(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.coordinator)
    page = await (await client.get(f"/units/{tree.province.id}")).text()
    assert 'value="2026-Q1"' in page and 'value="2025"' in page  # clock: 22 June 2026
    chosen = await client.get(f"/units/{tree.province.id}?period=2026-Q1")
    assert chosen.status == 200 and "quý I/2026" in await chosen.text()
