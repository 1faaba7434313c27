"""Storing a parsed plan: tasks, agencies, assignments fanned out to units; re-import."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.planimport import PlanAlreadyImported, PlanFormatError, parse_plan, store_plan
from storage.db import session_scope
from storage.models import Assignment, Plan, ProgressUpdate, Task, TaskAgency, Unit
from tests.planimport.conftest import make_province

SEED_000 = "000_6a26aac315758a40.txt"


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def _units(session: Session, level: str, province_code: str = "TN") -> set[int]:
    rows = session.exec(
        select(Unit.id).where(Unit.level == level, col(Unit.code).startswith(province_code))
    ).all()
    return {r for r in rows if r is not None}


def _store(engine: Engine, path: Path, province_id: int, **kwargs: bool) -> int:
    parsed = parse_plan(path)
    with session_scope(engine) as session:
        province = session.get(Unit, province_id)
        assert province is not None
        plan = store_plan(session, parsed, province, **kwargs)
        assert plan.id is not None
        return plan.id


def test_seed_000_fans_out_to_units(engine: Engine, seeds_dir: Path) -> None:
    province_id = make_province(engine)
    make_province(engine, "OT")  # another province: its units must never be assigned
    plan_id = _store(engine, seeds_dir / SEED_000, province_id)
    with Session(engine) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None and plan.year == 2024 and plan.report_deadlines == []
        tasks = session.exec(select(Task).where(Task.plan_id == plan_id).order_by("order")).all()
        assert [t.order for t in tasks] == list(range(1, 23))
        communes, districts = _units(session, "commune"), _units(session, "district")
        departments = _units(session, "department")
        by_task: dict[int, dict[int, str]] = {}
        for a in session.exec(select(Assignment)).all():
            by_task.setdefault(a.task_id, {})[a.unit_id] = a.role
            assert (a.status, a.percent, a.created_at.tzinfo is not None) == (
                "not_started",
                0,
                True,
            )
        noi_vu = session.exec(select(Unit).where(Unit.code == "TN-S0")).one()
        first = by_task[tasks[0].id or 0]
        # Task 1: lead Sở Nội vụ; coordinating every department, district and commune.
        assert first[noi_vu.id or 0] == "lead"
        assert set(first) == communes | districts | departments
        assert Counter(first.values()) == {"lead": 1, "coordinating": 16}
        # Task 21: communes and districts lead, departments coordinate.
        t21 = by_task[tasks[20].id or 0]
        assert {u for u, r in t21.items() if r == "lead"} == communes | districts
        assert {u for u, r in t21.items() if r == "coordinating"} == departments
        # Task 6: "Bảo hiểm xã hội tỉnh" matches no unit: kept as a TaskAgency and flagged.
        unresolved = session.exec(
            select(TaskAgency).where(
                TaskAgency.task_id == tasks[5].id, col(TaskAgency.unit_id).is_(None)
            )
        ).all()
        assert {a.raw_name for a in unresolved} == {
            "Bảo hiểm xã hội tỉnh", "Bệnh viện tuyến tỉnh", "Bệnh viện tuyến huyện"
        }  # fmt: skip
        assert "unresolved_agency" in tasks[5].flags
        assert "unresolved_agency" not in tasks[0].flags
        # "Ủy ban Mặt trận Tổ quốc VN tỉnh" matched the unit "Ủy ban MTTQ tỉnh".
        mttq = session.exec(select(Unit).where(Unit.code == "TN-S7")).one()
        assert by_task[tasks[15].id or 0][mttq.id or 0] == "lead"
        assert tasks[7].due_date is not None and tasks[7].due_date.isoformat() == "2024-12-31"
        assert tasks[0].deadline_kind == "recurring" and tasks[0].dimension == 1


def test_reimport_is_refused_then_replace_keeps_work(engine: Engine, seeds_dir: Path) -> None:
    province_id = make_province(engine)
    plan_id = _store(engine, seeds_dir / SEED_000, province_id)
    with Session(engine) as session:
        before = _count(session, Assignment)
        worked = session.exec(select(Assignment).order_by("id")).first()
        assert worked is not None and worked.id is not None
        worked.status, worked.percent = "in_progress", 50
        session.add(worked)
        session.add(ProgressUpdate(assignment_id=worked.id, status="in_progress", percent=50))
        session.commit()
        worked_id = worked.id
    with pytest.raises(PlanAlreadyImported, match="already imported"):
        _store(engine, seeds_dir / SEED_000, province_id)
    assert _store(engine, seeds_dir / SEED_000, province_id, replace=True) == plan_id
    with Session(engine) as session:
        assert _count(session, Plan) == 1
        assert _count(session, Task) == 22
        assert _count(session, Assignment) == before
        kept = session.get(Assignment, worked_id)
        assert kept is not None and (kept.status, kept.percent) == ("in_progress", 50)


def test_replace_with_fewer_tasks_retires_the_rest(engine: Engine, tmp_path: Path) -> None:
    province_id = make_province(engine)
    header = "STT\tNhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời gian hoàn thành\n"
    path = tmp_path / "plan.txt"
    path.write_text(
        "KẾ HOẠCH\nThử nghiệm năm 2025\n\n" + header
        + "1.\tTiếp công dân\tUBND cấp xã\t\tThường xuyên\n"
        + "2.\tCông khai ngân sách\tUBND cấp xã\tSở Tài chính\tQuý II\n",
        encoding="utf-8",
    )  # fmt: skip
    _store(engine, path, province_id)
    path.write_text(
        "KẾ HOẠCH\nThử nghiệm năm 2025\n\n" + header
        + "1.\tTiếp công dân định kỳ\tUBND cấp huyện\t\tThường xuyên\n",
        encoding="utf-8",
    )  # fmt: skip
    _store(engine, path, province_id, replace=True)
    with Session(engine) as session:
        tasks = session.exec(select(Task)).all()
        assert [t.text for t in tasks] == ["Tiếp công dân định kỳ"]
        units = {a.unit_id for a in session.exec(select(Assignment)).all()}
        assert units == _units(session, "district")


def test_a_failed_store_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    province_id = make_province(engine)
    path = tmp_path / "noyear.txt"
    path.write_text(
        "STT\tNhiệm vụ\tCơ quan chủ trì\n1.\tTiếp công dân\tUBND cấp xã\n", encoding="utf-8"
    )
    with pytest.raises(PlanFormatError, match="year is unknown"):
        _store(engine, path, province_id)
    with Session(engine) as session:
        assert (_count(session, Plan), _count(session, Task), _count(session, Assignment)) == (
            0,
            0,
            0,
        )
