"""Demo data: a fictional two-level province, its people, and a plan with real assignments."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, func, select

from bot.config import Settings
from bot.demo import (
    COMMUNES,
    DEPARTMENTS,
    SHIPPED_PLAN,
    demo_people,
    demo_plan_path,
    ensure_demo_data,
)
from kernel.clock import FixedClock
from storage.models import Assignment, AssignmentOfficial, Official, Plan, Task, Unit


def test_creates_province_communes_departments_and_people(
    session: Session, clock: FixedClock
) -> None:
    assert ensure_demo_data(session, Settings(), clock.now(), plan_path=SHIPPED_PLAN)
    session.commit()
    units = session.exec(select(Unit)).all()
    levels = sorted(unit.level for unit in units)
    assert levels.count("province") == 1 and levels.count("district") == 0  # the 2025 shape
    assert levels.count("commune") == len(COMMUNES) == 3
    assert {u.name for u in units if u.level == "department"} >= {"Sở Nội vụ", "Sở Y tế"}
    assert len([u for u in units if u.level == "department"]) == len(DEPARTMENTS)
    people = demo_people(session)
    assert [p.role for p in people] == ["chair"] * 3 + ["official"] * 6 + ["coordinator"]
    assert all(p.phone.startswith("+8490") for p in people)
    coordinator = people[-1]
    unit = session.get(Unit, coordinator.unit_id)
    assert unit is not None and unit.name == "Sở Nội vụ"


def test_plan_fans_out_to_every_commune_and_officials_get_tasks(
    session: Session, clock: FixedClock
) -> None:
    ensure_demo_data(session, Settings(), clock.now(), plan_path=SHIPPED_PLAN)
    plan = session.exec(select(Plan)).one()
    assert plan.report_deadlines == ["03-20", "06-20", "11-30"]
    tasks = session.exec(select(func.count()).select_from(Task)).one()
    assert tasks == 12
    for code, *_rest in COMMUNES:
        commune = session.exec(select(Unit).where(Unit.code == f"DEMO-{code}")).one()
        count = session.exec(
            select(func.count()).select_from(Assignment).where(Assignment.unit_id == commune.id)
        ).one()
        assert count == 12  # "UBND cấp xã" leads or coordinates every task of the demo plan
    given = session.exec(select(func.count()).select_from(AssignmentOfficial)).one()
    assert given == 3 * 2 * 2  # two tasks each for the two officials of each commune


def test_second_call_changes_nothing(session: Session, clock: FixedClock) -> None:
    assert ensure_demo_data(session, Settings(), clock.now(), plan_path=SHIPPED_PLAN)
    session.commit()
    before = session.exec(select(func.count()).select_from(Official)).one()
    assert not ensure_demo_data(session, Settings(), clock.now(), plan_path=SHIPPED_PLAN)
    assert session.exec(select(func.count()).select_from(Official)).one() == before


def test_seed_000_is_the_plan_when_the_seeds_are_there(
    session: Session, clock: FixedClock, seeds_dir: Path
) -> None:
    path = demo_plan_path(seeds_dir)
    assert path.name.startswith("000_")
    ensure_demo_data(session, Settings(), clock.now(), plan_path=path)
    plan = session.exec(select(Plan)).one()
    assert "PAPI" in plan.title and plan.year == 2024
    assert session.exec(select(func.count()).select_from(Task)).one() > 20
    commune = session.exec(select(Unit).where(Unit.code == "DEMO-X01")).one()
    count = session.exec(
        select(func.count()).select_from(Assignment).where(Assignment.unit_id == commune.id)
    ).one()
    assert count > 0


def test_shipped_plan_when_the_seeds_are_missing(tmp_path: Path, seeds_dir: Path) -> None:
    assert demo_plan_path(tmp_path / "nowhere") == SHIPPED_PLAN
    shipped = SHIPPED_PLAN.read_text(encoding="utf-8")
    assert "hư cấu" in shipped  # says it is fictional
    seed = next(seeds_dir.glob("000_*.txt")).read_text(encoding="utf-8")
    shipped_rows = {line.split("\t")[1] for line in shipped.splitlines() if line.count("\t") >= 4}
    assert not any(row in seed for row in shipped_rows if row != "Nhiệm vụ")
