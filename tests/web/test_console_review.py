"""The plan review table: agencies (lead / coordinating) editable and unresolved ones
highlighted, the dimension a drop-down of the taxonomy, the deadline's kind and date
editable; read by the same rules as an edited ``import-plan --review-out`` spreadsheet."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.planimport import parse_plan
from bot.planimport.review import apply_review
from bot.planimport.tabular import read_template, write_review
from kernel.clock import FixedClock
from storage.models import Assignment, AuditEntry, Plan, Task, Unit
from tests.web.conftest import Client, Tree, csrf_of, sign_in
from tests.web.test_console_views import count, upload_form

PLAN = (
    "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian hoàn thành\n"
    "1,Công khai thủ tục hành chính tại bộ phận một cửa,Sở Không Có,,Quý III/2026\n"
    "2,Tổ chức đối thoại với người dân về đất đai,Sở Nội vụ,Sở Y tế,Thường xuyên\n"
    "3,Rà soát hộ nghèo và công khai danh sách,Sở Y tế,,Tháng 9/2026\n"
).encode()


def _review_form(html: str, **changes: str) -> dict[str, str]:
    """What the browser would send back: every field as shown, with ``changes`` applied."""
    form: dict[str, str] = {"csrf": csrf_of(html)}
    for name, value in re.findall(r'<input name="([a-z]+-\d+)" value="([^"]*)"', html):
        form[name] = value
    for name, value in re.findall(r'type="date" name="(due-\d+)" value="([^"]*)"', html):
        form[name] = value
    for name, body in re.findall(r'<textarea name="([a-z]+-\d+)"[^>]*>([^<]*)</textarea>', html):
        form[name] = body
    for name, options in re.findall(r'<select name="([a-z]+-\d+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        form[name] = chosen.group(1) if chosen else ""
    return {**form, **changes}


async def _upload(client: Client, token: str) -> tuple[str, str]:
    review = await client.post(
        "/plans/upload", data=upload_form(token, "kh.csv", PLAN, year="2026")
    )
    assert review.status == 200, await review.text()
    return str(review.url.path), await review.text()


async def test_agencies_deadline_kind_and_dimension_are_edited_then_committed(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    path, html = await _upload(client, token)
    assert re.search(r'<textarea name="lead-0"[^>]*class="unresolved"', html)
    assert 'class="agency unresolved"' in html and "Sở Không Có" in html
    assert not re.search(r'<textarea name="lead-1"[^>]*class="unresolved"', html)
    assert re.search(r'<select name="kind-1".*?<option value="recurring" selected', html, re.S)
    assert 'name="due-0" value="2026-09-30"' in html
    assert '<option value="8"' in html  # the taxonomy's eight dimensions
    form = _review_form(
        html,
        **{
            "lead-0": "Sở Nội vụ",
            "coord-0": "Sở Y tế; Văn phòng UBND tỉnh",
            "kind-1": "date",
            "due-1": "2026-10-15",
            "dim-2": "5",
            "action": "save",
        },
    )
    saved = await client.post(path, data=form)
    page = await saved.text()
    assert saved.status == 200 and not re.search(
        r'<textarea name="lead-0"[^>]*class="unresolved"', page
    )
    assert "Sở Nội vụ</textarea>" in page and "15/10/2026" in page
    assert count(engine, Plan) == 1  # only the conftest's plan: nothing stored yet
    committed = await client.post(path, data={**_review_form(page), "action": "commit"})
    assert committed.status == 200
    with Session(engine) as session:
        plan = session.exec(select(Plan).order_by(col(Plan.id).desc())).first()
        assert plan is not None and plan.source_file == "kh.csv"
        tasks = session.exec(
            select(Task).where(Task.plan_id == plan.id).order_by(col(Task.order))
        ).all()
        assert tasks[0].lead_raw == "Sở Nội vụ"
        assert (tasks[1].deadline_kind, str(tasks[1].due_date)) == ("date", "2026-10-15")
        assert tasks[2].dimension == 5
        units = {
            name: role
            for name, role in session.exec(
                select(Unit.name, Assignment.role)
                .join(Assignment, col(Assignment.unit_id) == col(Unit.id))
                .where(col(Assignment.task_id) == tasks[0].id)
            ).all()
        }
        assert units == {
            "Sở Nội vụ": "lead",
            "Sở Y tế": "coordinating",
            "Văn phòng UBND tỉnh": "coordinating",
        }
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "plan.import")).one()
        assert entry.detail is not None and entry.detail["edits"] == 3


def test_the_console_applies_the_review_spreadsheets_rules(tmp_path: Path) -> None:
    """The same change made in a --review-out spreadsheet and in the console reads the same."""
    source = tmp_path / "kh.csv"
    source.write_bytes(PLAN)
    parsed = parse_plan(source, year=2026)
    changes = {"lead": "Sở Nội vụ; Sở Y tế", "deadline_kind": "date", "due": "2026-10-15"}
    reviewed = apply_review(parsed.tasks[0], changes, 2026, "kh.csv", 1)
    sheet_path = tmp_path / "review.xlsx"
    write_review(parsed, sheet_path)
    book = load_workbook(sheet_path)
    sheet = book["Nhiệm vụ"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(2, header.index("Cơ quan chủ trì") + 1, changes["lead"])
    sheet.cell(2, header.index("Loại hạn") + 1, "date")
    sheet.cell(2, header.index("Hạn (YYYY-MM-DD)") + 1, "2026-10-15")
    book.save(sheet_path)
    from_sheet = read_template(sheet_path, year=2026).tasks[0]
    assert reviewed.to_json() == from_sheet.to_json()
    assert reviewed.lead == ["Sở Nội vụ", "Sở Y tế"] and str(reviewed.deadline.due) == "2026-10-15"


async def test_a_bad_value_is_explained_and_not_kept(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    path, html = await _upload(client, token)
    bad = _review_form(html, **{"kind-1": "date", "due-1": "", "action": "commit"})
    refused = await client.post(path, data=bad)
    text = await refused.text()
    assert refused.status == 400 and "Hạn (YYYY-MM-DD)" in text and "/tmp" not in text
    assert count(engine, Plan) == 1
    again = await (await client.get(path)).text()
    assert re.search(r'<select name="kind-1".*?<option value="recurring" selected', again, re.S)
    forged = await client.post(path, data=_review_form(html, **{"dim-1": "9"}))
    assert forged.status == 400


async def test_the_review_is_for_admins_with_a_csrf_token(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    path, html = await _upload(client, token)
    no_csrf = {k: v for k, v in _review_form(html, action="commit").items() if k != "csrf"}
    assert (await client.post(path, data=no_csrf)).status == 403
    client.session.cookie_jar.clear()
    csrf = await sign_in(client, engine, clock, tree.district_coordinator)
    assert (await client.get(path)).status == 403
    assert (
        await client.post(path, data={**_review_form(html, action="commit"), "csrf": csrf})
    ).status == 403
    assert count(engine, Plan) == 1
