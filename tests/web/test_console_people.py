"""Officials in the console: a deactivated or moved official's tasks go back to the old unit's
chair (as `papi-bot officials deactivate` does), each change audited; units: list, add,
edit, move, remove, with a district coordinator refused outside their district."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import Assignment, AssignmentOfficial, AuditEntry, Official, Unit
from tests.web.conftest import Client, Tree, sign_in


def _carry(engine: Engine, tree: Tree) -> int:
    """The commune official carries one of their commune's assignments."""
    with session_scope(engine) as session:
        assignment = session.exec(
            select(Assignment).where(col(Assignment.unit_id) == tree.commune_a.id)
        ).first()
        assert assignment is not None and assignment.id is not None
        assert tree.official.id is not None
        session.add(AssignmentOfficial(assignment_id=assignment.id, official_id=tree.official.id))
        return assignment.id


def _carried(engine: Engine, official_id: int | None) -> int:
    with Session(engine) as session:
        rows = session.exec(
            select(AssignmentOfficial).where(AssignmentOfficial.official_id == official_id)
        ).all()
        return len(rows)


def _actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]


def _form(token: str, official: Official, unit: Unit, active: bool = True) -> dict[str, str]:
    form = {"csrf": token, "name": official.name, "role": official.role, "unit_id": str(unit.id)}
    return {**form, "active": "on"} if active else form


async def test_moving_an_official_hands_their_tasks_back_and_is_audited_as_a_move(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    _carry(engine, tree)
    token = await sign_in(client, engine, clock, tree.admin)
    moved = await client.post(
        f"/officials/{tree.official.id}",
        data=_form(token, tree.official, tree.commune_b),
        allow_redirects=False,
    )
    assert moved.status == 302
    assert _carried(engine, tree.official.id) == 0  # the old commune's chair carries it now
    assert _actions(engine)[-1] == "official.move"
    with Session(engine) as session:
        official = session.get(Official, tree.official.id)
        assert official is not None and official.active and official.unit_id == tree.commune_b.id


async def test_deactivating_an_official_hands_their_tasks_back(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    _carry(engine, tree)
    token = await sign_in(client, engine, clock, tree.admin)
    form = _form(token, tree.official, tree.commune_a, active=False)
    response = await client.post(f"/officials/{tree.official.id}", data=form, allow_redirects=False)
    assert response.status == 302
    assert _carried(engine, tree.official.id) == 0
    assert _actions(engine)[-1] == "official.deactivate"
    renamed = {**form, "name": "Lê Thị Hoà", "active": "on"}
    await client.post(f"/officials/{tree.official.id}", data=renamed, allow_redirects=False)
    assert _actions(engine)[-1] == "official.edit"


async def test_a_district_coordinator_cannot_touch_officials(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.district_coordinator)
    form = _form(token, tree.official, tree.commune_b)
    assert (await client.get(f"/officials/{tree.official.id}")).status == 403
    assert (await client.post(f"/officials/{tree.official.id}", data=form)).status == 403
    assert (await client.get("/officials/new")).status == 403
    with Session(engine) as session:
        official = session.get(Official, tree.official.id)
        assert official is not None and official.unit_id == tree.commune_a.id


def _unit(engine: Engine, code: str) -> Unit | None:
    with Session(engine) as session:
        return session.exec(select(Unit).where(Unit.code == code)).first()


async def test_units_are_listed_added_edited_moved_and_removed_with_audit(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.admin)
    listing = await (await client.get("/units")).text()
    assert tree.commune_b.name in listing and "/units/new" in listing
    add = {
        "csrf": token,
        "code": "XC",
        "name": "Xã Cẩm Lý",
        "level": "commune",
        "parent": str(tree.district_a.id),
    }
    added = await client.post("/units/new", data=add, allow_redirects=False)
    assert added.status == 302, await added.text()
    commune = _unit(engine, "XC")
    assert commune is not None and commune.path.startswith(tree.district_a.path)
    taken = await client.post("/units/new", data=add)
    assert taken.status == 400 and "XC" in await taken.text()
    wrong = await client.post(
        "/units/new", data={**add, "code": "XD", "parent": str(tree.commune_a.id)}
    )
    assert wrong.status == 400 and _unit(engine, "XD") is None  # a commune under a commune
    edit = {**add, "name": "Xã Cẩm Lý Mới", "parent": str(tree.district_b.id)}
    moved = await client.post(f"/units/{commune.id}/edit", data=edit, allow_redirects=False)
    assert moved.status == 302
    after = _unit(engine, "XC")
    assert after is not None and after.name == "Xã Cẩm Lý Mới"
    assert after.parent_id == tree.district_b.id and after.path.startswith(tree.district_b.path)
    # A district moved under itself would be a cycle: its own subtree is not offered, and
    # a forged form is refused.
    page = await (await client.get(f"/units/{tree.district_a.id}/edit")).text()
    assert f'value="{tree.commune_a.id}"' not in page
    cycle = {**add, "code": "DA", "name": "Huyện An", "level": "district"}
    cycle["parent"] = str(tree.commune_a.id)
    assert (await client.post(f"/units/{tree.district_a.id}/edit", data=cycle)).status == 400
    kept = await client.post(f"/units/{tree.commune_a.id}/remove", data={"csrf": token})
    assert kept.status == 400 and _unit(engine, "XA") is not None  # officials depend on it
    removed = await client.post(
        f"/units/{commune.id}/remove", data={"csrf": token}, allow_redirects=False
    )
    assert removed.status == 302 and _unit(engine, "XC") is None
    assert _actions(engine)[-3:] == ["unit.add", "unit.move", "unit.remove"]
    sheet = load_workbook(io.BytesIO(await (await client.get("/units.xlsx")).read())).active
    assert sheet is not None
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "XB" in codes and "XC" not in codes


async def test_a_district_coordinator_sees_their_units_and_changes_none(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    token = await sign_in(client, engine, clock, tree.district_coordinator)
    listing = await (await client.get("/units")).text()
    assert tree.commune_a.name in listing and tree.commune_b.name not in listing
    assert "/edit" not in listing
    sheet = load_workbook(io.BytesIO(await (await client.get("/units.xlsx")).read())).active
    assert sheet is not None
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == ["DA", "XA"]
    b = tree.commune_b.id
    assert (await client.get(f"/units/{b}/edit")).status == 403
    assert (await client.post(f"/units/{b}/remove", data={"csrf": token})).status == 403
    assert (
        await client.post(f"/units/{tree.commune_a.id}/remove", data={"csrf": token})
    ).status == 403
    form = {"csrf": token, "code": "XE", "name": "Xã E", "level": "commune", "parent": str(b)}
    assert (await client.post("/units/new", data=form)).status == 403
    assert _unit(engine, "XE") is None


async def test_unit_forms_need_the_csrf_token(
    client: Client, engine: Engine, clock: FixedClock, tree: Tree
) -> None:
    await sign_in(client, engine, clock, tree.admin)
    form = {"code": "XF", "name": "Xã F", "level": "commune", "parent": str(tree.district_a.id)}
    assert (await client.post("/units/new", data=form)).status == 403
    assert (await client.post(f"/units/{tree.commune_b.id}/remove", data={})).status == 403
    assert _unit(engine, "XF") is None and _unit(engine, "XB") is not None
