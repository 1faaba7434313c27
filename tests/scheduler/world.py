"""A small province for scheduler tests: units, officials, identities, a plan, tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from kernel.clock import VN_TZ
from storage.models import (
    Assignment,
    AssignmentOfficial,
    ChannelIdentity,
    Official,
    Plan,
    Task,
    Unit,
)


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN_TZ)


@dataclass
class World:
    session: Session
    units: dict[str, Unit] = field(default_factory=dict)
    officials: dict[str, Official] = field(default_factory=dict)
    plan: Plan | None = None
    _phone: int = 912000000

    def unit(self, code: str, name: str, level: str, parent: str | None = None) -> Unit:
        parent_unit = self.units[parent] if parent else None
        unit = Unit(
            code=code,
            name=name,
            name_folded=name.lower(),
            level=level,
            parent_id=parent_unit.id if parent_unit else None,
        )
        self.session.add(unit)
        self.session.flush()
        unit.path = f"{parent_unit.path if parent_unit else '/'}{unit.id}/"
        self.session.flush()
        self.units[code] = unit
        return unit

    def official(
        self, key: str, unit: str, role: str = "official", locale: str = "vi", chat: bool = True
    ) -> Official:
        self._phone += 1
        official = Official(
            name=key,
            phone=f"+84{self._phone}",
            unit_id=self.units[unit].id or 0,
            role=role,
            locale=locale,
        )
        self.session.add(official)
        self.session.flush()
        if chat:
            self.session.add(
                ChannelIdentity(
                    official_id=official.id or 0,
                    channel="telegram",
                    external_user_id=f"u{official.id}",
                    chat_id=str(700000 + (official.id or 0)),
                )
            )
            self.session.flush()
        self.officials[key] = official
        return official

    def make_plan(self, deadlines: list[str] | None = None, **policy: object) -> Plan:
        plan = Plan(
            province_id=next(iter(self.units.values())).id,
            year=2026,
            title="Kế hoạch nâng cao Chỉ số PAPI",
            report_deadlines=deadlines or [],
            reminder_policy=dict(policy) or None,
        )
        self.session.add(plan)
        self.session.flush()
        self.plan = plan
        return plan

    def task(
        self, order: int, text: str, *, due: date | None = None, kind: str | None = None
    ) -> Task:
        assert self.plan is not None and self.plan.id is not None
        task = Task(
            plan_id=self.plan.id,
            order=order,
            stt=f"{order}.",
            text=text,
            deadline_kind=kind or ("date" if due else "recurring"),
            due_date=due,
            deadline_raw=due.strftime("%d/%m/%Y") if due else "Thường xuyên",
        )
        self.session.add(task)
        self.session.flush()
        return task

    def assign(
        self,
        task: Task,
        unit: str,
        *,
        created: datetime,
        role: str = "lead",
        officials: tuple[str, ...] = (),
    ) -> Assignment:
        assignment = Assignment(
            task_id=task.id or 0, unit_id=self.units[unit].id or 0, role=role, created_at=created
        )
        self.session.add(assignment)
        self.session.flush()
        for key in officials:
            self.session.add(
                AssignmentOfficial(
                    assignment_id=assignment.id or 0,
                    official_id=self.officials[key].id or 0,
                    assigned_at=created,
                )
            )
        self.session.flush()
        return assignment

    def commit(self) -> None:
        self.session.commit()


def small_province(session: Session) -> World:
    """Province P with coordinator Mai; commune A (chair Hùng, official Lan), commune B
    (chair Bob, English); both communes directly under the province (two-level)."""
    world = World(session)
    world.unit("P", "Tỉnh Bắc Giang", "province")
    world.unit("A", "Xã An Hà", "commune", "P")
    world.unit("B", "Xã Bình Sơn", "commune", "P")
    world.official("Mai", "P", role="coordinator")
    world.official("Hùng", "A", role="chair")
    world.official("Lan", "A")
    world.official("Bob", "B", role="chair", locale="en")
    return world
