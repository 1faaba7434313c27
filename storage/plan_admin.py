"""Plans as the admin manages them: list them, retire one.

A retired plan keeps every row (the reports of past periods still need them); its tasks
leave the officials' lists and get no more reminders, escalations or digest lines.
:func:`live_plan` is the condition the readers add to keep to plans still running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from storage.models import Assignment, Plan, Task, Unit


@dataclass(frozen=True, slots=True)
class PlanRow:
    plan: Plan
    province: str
    tasks: int
    assignments: int


class PlanNotFound(LookupError):
    """No plan has this id."""


def live_plan() -> ColumnElement[bool]:
    """``Task.plan_id`` is a plan that has not been retired (use where Task is joined)."""
    retired = select(Plan.id).where(col(Plan.retired_at).is_not(None))
    return col(Task.plan_id).not_in(retired)


def list_plans(session: Session) -> list[PlanRow]:
    """Every plan, newest first, with its province and how many tasks and assignments."""
    tasks = dict(session.exec(select(Task.plan_id, func.count()).group_by(col(Task.plan_id))).all())
    assignments = dict(
        session.exec(
            select(Task.plan_id, func.count())
            .join(Assignment, col(Assignment.task_id) == col(Task.id))
            .group_by(col(Task.plan_id))
        ).all()
    )
    rows = session.exec(
        select(Plan, Unit.name)
        .join(Unit, col(Unit.id) == col(Plan.province_id), isouter=True)
        .order_by(col(Plan.year).desc(), col(Plan.id).desc())
    ).all()
    return [
        PlanRow(plan, province or "", tasks.get(plan.id or 0, 0), assignments.get(plan.id or 0, 0))
        for plan, province in rows
    ]


def retire_plan(session: Session, plan_id: int, now: datetime) -> tuple[Plan, bool]:
    """Mark the plan retired; (the plan, False when it already was)."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanNotFound(plan_id)
    if plan.retired_at is not None:
        return plan, False
    plan.retired_at = now
    session.add(plan)
    session.flush()
    return plan, True
