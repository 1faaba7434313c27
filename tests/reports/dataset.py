"""A small, known dataset whose figures are worked out by hand in the tests.

Three-level tree (before July 2025)::

    Tỉnh Bắc Giang (province)
    ├── Huyện Yên Dũng (district) ── Xã Tân An (C1), Xã Nham Sơn (C2)
    ├── Huyện Lục Nam (district) ──── Xã Bảo Đài (C3)
    ├── Huyện Sơn Động (district, no communes, no tasks)
    └── Sở Nội vụ (department)

Tasks (plan 99/KH-UBND, 2024): T1 dimension 1 / 1.1 due 30/06/2024; T2 dimension 3 / 3.2
"Thường xuyên"; T3 dimension 8 / 8.1 due 30/09/2024; T4 no dimension, due 31/12/2024.
T1..T3 are led by every commune; T4 is led by the Sở; the Sở coordinates T1.

Updates (Vietnam time), the last one of each assignment is its current state:
- C1: T1 in_progress 05-10, done 07-05 · T2 in_progress 20% 06-01, 50% 08-01 · T3 blocked
  07-20 "Thiếu kinh phí"
- C2: T1 in_progress 30% 04-10 · T2 done 06-15 · T3 nothing
- C3: T1 done 06-20 · T2 blocked 08-10 "Chờ hướng dẫn của Sở" · T3 in_progress 20% 08-12
- Sở: T4 in_progress 10% 08-05 · T1 (coordinating) done 07-10
Every assignment was created 2024-05-01.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from kernel.clock import VN_TZ
from kernel.textnorm import fold
from storage.models import Assignment, Plan, ProgressUpdate, Score, Task, Unit

CREATED = datetime(2024, 5, 1, 8, 0, tzinfo=VN_TZ)
NOW = datetime(2024, 8, 15, 10, 0, tzinfo=VN_TZ)  # mid Q3 2024


def vn(month: int, day: int, year: int = 2024) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=VN_TZ)


@dataclass
class Dataset:
    units: dict[str, Unit] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    assignments: dict[tuple[str, str], Assignment] = field(default_factory=dict)
    plan: Plan | None = None


def add_unit(session: Session, code: str, name: str, level: str, parent: Unit | None) -> Unit:
    unit = Unit(
        code=code,
        name=name,
        name_folded=fold(name),
        level=level,
        parent_id=parent.id if parent else None,
    )
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    return unit


def add_task(
    session: Session,
    plan: Plan,
    order: int,
    text: str,
    dimension: int | None,
    sub: str | None,
    due: date | None,
    raw: str,
) -> Task:
    task = Task(
        plan_id=plan.id or 0,
        order=order,
        stt=f"{order}.",
        text=text,
        deadline_raw=raw,
        deadline_kind="date" if due else "recurring",
        due_date=due,
        dimension=dimension,
        subdimension=sub,
    )
    session.add(task)
    session.flush()
    return task


def assign(session: Session, task: Task, unit: Unit, role: str = "lead") -> Assignment:
    assignment = Assignment(
        task_id=task.id or 0, unit_id=unit.id or 0, role=role, created_at=CREATED
    )
    session.add(assignment)
    session.flush()
    return assignment


def update(
    session: Session,
    assignment: Assignment,
    when: datetime,
    status: str,
    percent: int | None = None,
    note: str | None = None,
) -> None:
    """A progress update, and the assignment row brought up to date as the bot does."""
    if status == "done":
        percent = 100
    session.add(
        ProgressUpdate(
            assignment_id=assignment.id or 0,
            status=status,
            percent=percent,
            note=note,
            created_at=when,
        )
    )
    assignment.status = status
    if percent is not None:
        assignment.percent = percent
    if status == "done":
        assignment.percent = 100
        assignment.done_at = when
    assignment.note = note
    assignment.last_update_at = when
    session.add(assignment)
    session.flush()


def build_three_level(session: Session, *, with_scores: bool = True) -> Dataset:
    data = Dataset()
    u = data.units
    u["P"] = add_unit(session, "24", "Tỉnh Bắc Giang", "province", None)
    u["D1"] = add_unit(session, "213", "Huyện Yên Dũng", "district", u["P"])
    u["D2"] = add_unit(session, "218", "Huyện Lục Nam", "district", u["P"])
    u["D3"] = add_unit(session, "221", "Huyện Sơn Động", "district", u["P"])
    u["S"] = add_unit(session, "SNV", "Sở Nội vụ", "department", u["P"])
    u["C1"] = add_unit(session, "07420", "Xã Tân An", "commune", u["D1"])
    u["C2"] = add_unit(session, "07423", "Xã Nham Sơn", "commune", u["D1"])
    u["C3"] = add_unit(session, "07510", "Xã Bảo Đài", "commune", u["D2"])
    plan = Plan(province_id=u["P"].id, year=2024, title="Kế hoạch cải thiện Chỉ số PAPI năm 2024")
    plan.number = "99/KH-UBND"
    session.add(plan)
    session.flush()
    data.plan = plan
    t = data.tasks
    t["T1"] = add_task(
        session, plan, 1, "Tuyên truyền về Chỉ số PAPI", 1, "1.1", date(2024, 6, 30), "Quý II"
    )
    t["T2"] = add_task(session, plan, 2, "Tiếp công dân định kỳ", 3, "3.2", None, "Thường xuyên")
    t["T3"] = add_task(
        session, plan, 3, "Cập nhật cổng thông tin xã", 8, "8.1", date(2024, 9, 30), "Quý III"
    )
    t["T4"] = add_task(
        session, plan, 4, "Tổng hợp báo cáo năm", None, None, date(2024, 12, 31), "Năm 2024"
    )
    a = data.assignments
    for commune in ("C1", "C2", "C3"):
        for task in ("T1", "T2", "T3"):
            a[(commune, task)] = assign(session, t[task], u[commune])
    a[("S", "T4")] = assign(session, t["T4"], u["S"])
    a[("S", "T1")] = assign(session, t["T1"], u["S"], role="coordinating")

    update(session, a[("C1", "T1")], vn(5, 10), "in_progress", 40)
    update(session, a[("C1", "T1")], vn(7, 5), "done")
    update(session, a[("C1", "T2")], vn(6, 1), "in_progress", 20)
    update(session, a[("C1", "T2")], vn(8, 1), "in_progress", 50)
    update(session, a[("C1", "T3")], vn(7, 20), "blocked", None, "Thiếu kinh phí")
    update(session, a[("C2", "T1")], vn(4, 10), "in_progress", 30)
    update(session, a[("C2", "T2")], vn(6, 15), "done")
    update(session, a[("C3", "T1")], vn(6, 20), "done")
    update(session, a[("C3", "T2")], vn(8, 10), "blocked", None, "Chờ hướng dẫn của Sở")
    update(session, a[("C3", "T3")], vn(8, 12), "in_progress", 20)
    update(session, a[("S", "T4")], vn(8, 5), "in_progress", 10)
    update(session, a[("S", "T1")], vn(7, 10), "done")
    if with_scores:
        for code, score in (("1", 4.86), ("3", 4.25), ("8", 2.58), ("total", 42.153)):
            session.add(Score(unit_id=u["P"].id or 0, year=2021, code=code, score=score))
    session.flush()
    return data


def build_two_level(session: Session) -> Dataset:
    """Since July 2025: province → commune. X1 done both tasks, X2 one, X3 none; X4 no tasks."""
    data = Dataset()
    u = data.units
    u["P"] = add_unit(session, "19", "Tỉnh Thái Nguyên", "province", None)
    for key, code, name in (
        ("X1", "05440", "Phường Phan Đình Phùng"),
        ("X2", "05443", "Xã Đại Phúc"),
        ("X3", "05446", "Xã Tân Cương"),
        ("X4", "05449", "Xã Phúc Xuân"),
    ):
        u[key] = add_unit(session, code, name, "commune", u["P"])
    plan = Plan(province_id=u["P"].id, year=2026, title="Kế hoạch PAPI năm 2026")
    session.add(plan)
    session.flush()
    data.plan = plan
    data.tasks["T1"] = add_task(session, plan, 1, "Công khai ngân sách xã", 2, "2.3", None, "")
    data.tasks["T2"] = add_task(
        session, plan, 2, "Tập huấn cán bộ một cửa", 5, "5.4", date(2026, 3, 31), "Quý I/2026"
    )
    for commune in ("X1", "X2", "X3"):
        for task in ("T1", "T2"):
            data.assignments[(commune, task)] = assign(session, data.tasks[task], u[commune])
    a = data.assignments
    update(session, a[("X1", "T1")], vn(1, 5, 2026), "done")
    update(session, a[("X1", "T2")], vn(2, 5, 2026), "done")
    update(session, a[("X2", "T1")], vn(2, 20, 2026), "done")
    update(session, a[("X2", "T2")], vn(2, 25, 2026), "in_progress", 60)
    session.flush()
    return data
