"""Officials in the console: a deactivated or moved official's tasks go back to the old unit's
chair (as `papi-bot officials deactivate` does), each change audited; units: list, add,
edit, move, remove, with a district coordinator refused outside their district."""

from __future__ import annotations

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
