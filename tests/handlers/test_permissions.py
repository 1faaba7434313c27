"""Every role against a task outside its reach: a refusal and nothing changed. And the
positive side: each role can act where it should."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import func, select

from handlers import payloads
from handlers.types import Attachment
from storage.db import session_scope
from storage.models import (
    Assignment,
    AssignmentOfficial,
    ConversationState,
    Evidence,
    Official,
    Plan,
    ProgressUpdate,
    Task,
)
from storage.units import add_unit, get_unit_by_code
from tests.handlers.helpers import World

PHOTO = Attachment(kind="photo", file_id="AgACx")


def _other_province_assignment(world: World) -> int:
    with session_scope(world.engine) as session:
        province = add_unit(session, "OTHER", "Tỉnh Khác", "province", None)
        commune = add_unit(session, "OTHER-X1", "Xã Khác", "commune", province)
        plan = Plan(province_id=province.id, year=2026, title="Kế hoạch khác")
        session.add(plan)
        session.flush()
        task = Task(plan_id=plan.id or 0, order=1, text="Việc của tỉnh khác")
        session.add(task)
        session.flush()
        assignment = Assignment(task_id=task.id or 0, unit_id=commune.id or 0)
        session.add(assignment)
        session.flush()
        return assignment.id or 0


def _first_of(world: World, code: str) -> int:
    return world.unit_assignments(code)[0]


def _unassigned_in_x01(world: World) -> int:
    taken = world.assignments_of("off1a") + world.assignments_of("off1b")
    return next(n for n in world.unit_assignments("DEMO-X01") if n not in taken)


# (who, how to find a task out of their reach)
CASES: list[tuple[str, Callable[[World], int]]] = [
    ("off1a", lambda w: w.assignments_of("off1b")[0]),  # a colleague's task
    ("off1a", _unassigned_in_x01),  # the commune's task nobody gave them
    ("off1a", lambda w: _first_of(w, "DEMO-X02")),  # another commune
    ("chair1", lambda w: _first_of(w, "DEMO-X02")),  # another commune
    ("chair1", lambda w: _first_of(w, "DEMO-SNV")),  # a department of the province
    ("coord", _other_province_assignment),  # another province
]

ATTEMPTS: list[tuple[str, Callable[[int], dict[str, object]]]] = [
    ("view", lambda n: {"payload": payloads.task_action(n, "view")}),
    ("done button", lambda n: {"payload": payloads.task_action(n, "done")}),
    ("progress button", lambda n: {"payload": payloads.task_action(n, "progress")}),
    ("note button", lambda n: {"payload": payloads.task_action(n, "note")}),
    ("evidence button", lambda n: {"payload": payloads.task_action(n, "evidence")}),
    ("quick reply", lambda n: {"text": f"{n} xong"}),
    ("blocked reply", lambda n: {"text": f"{n} vướng: không có người"}),
    ("typed number", lambda n: {"text": str(n)}),
    ("evidence caption", lambda n: {"text": str(n), "attachments": (PHOTO,)}),
    ("assign", lambda n: {"payload": payloads.assign(n, 0)}),
    ("typed assign", lambda n: {"text": f"/giao {n} 1"}),
]


def _snapshot(world: World) -> tuple[object, ...]:
    with world.session() as session:
        assignments = [
            (a.id, a.status, a.percent, a.note, a.last_update_at)
            for a in session.exec(select(Assignment)).all()
        ]
        counts = tuple(
            session.exec(select(func.count()).select_from(model)).one()
            for model in (ProgressUpdate, Evidence, AssignmentOfficial, ConversationState)
        )
    return (sorted(assignments, key=lambda row: row[0] or 0), counts)


@pytest.mark.parametrize(("who", "target"), CASES)
@pytest.mark.parametrize(("attempt", "message"), ATTEMPTS)
def test_refused_and_nothing_changed(
    world: World,
    who: str,
    target: Callable[[World], int],
    attempt: str,
    message: Callable[[int], dict[str, object]],
) -> None:
    number = target(world)
    user = world.link(who)
    before = _snapshot(world)
    rows = world.send(user, **message(number))  # type: ignore[arg-type]
    assert len(rows) == 1, attempt
    assert any(
        words in rows[0].text
        for words in ("không thuộc phạm vi", "Chỉ Chủ tịch UBND xã", "Chưa có thay đổi")
    ), rows[0].text
    assert rows[0].chat_id == user  # nobody else was told anything
    assert _snapshot(world) == before


def test_chair_acts_on_any_task_of_the_commune(world: World) -> None:
    chair = world.link("chair1")
    colleague_task = world.assignments_of("off1a")[0]
    assert "Hoàn thành" in world.texts(chair, f"{colleague_task} xong")
    assert world.assignment(colleague_task).status == "done"


def test_coordinator_acts_on_any_task_of_the_province(world: World) -> None:
    coord = world.link("coord")
    number = _first_of(world, "DEMO-X03")
    assert "Đang thực hiện 10%" in world.texts(coord, f"{number} 10%")


def test_department_staff_see_their_departments_tasks(world: World) -> None:
    with session_scope(world.engine) as session:
        department = get_unit_by_code(session, "DEMO-SYT")
        assert department is not None
        session.add(
            Official(name="Cán bộ Sở Y tế", phone="+84900009999", unit_id=department.id or 0)
        )
    with world.session() as session:
        world.people["health"] = session.exec(
            select(Official).where(Official.phone == "+84900009999")
        ).one()
    user = world.link("health")
    mine = world.unit_assignments("DEMO-SYT")
    assert mine and all(f"#{n}" in world.texts(user, "/nhiemvu") for n in mine)
