"""Writing a plan: Plan, Task, TaskAgency and Assignment rows, in the caller's transaction.

The plan reader (``bot.planimport``) decides what a file says and which units its agencies
are; this module writes that, and on a re-import updates the plan in place: tasks are matched
by their position, assignments that carry work (progress, evidence, officials, sent messages)
are kept, the others follow the new file, and a task the file dropped is deleted unless it
carries work (then it is flagged ``removed_from_plan``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from storage.models import (
    Assignment,
    AssignmentOfficial,
    AssignmentRole,
    AssignmentStatus,
    Evidence,
    OutboxMessage,
    Plan,
    ProgressUpdate,
    ReminderLog,
    Task,
    TaskAgency,
    utcnow,
)

FLAG_REMOVED = "removed_from_plan"


@dataclass(frozen=True, slots=True)
class PlanFields:
    province_id: int | None
    year: int
    title: str
    number: str | None = None
    source_file: str | None = None
    source_sha256: str | None = None
    report_deadlines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgencyRef:
    """An agency named in a task's lead or coordinating cell; ``unit_id`` None: no match."""

    role: AssignmentRole
    raw_name: str
    unit_id: int | None


@dataclass(frozen=True, slots=True)
class TaskFields:
    """One task as the file states it, with its agencies and the units that carry it."""

    stt: str
    section: str | None
    text: str
    lead_raw: str
    coordinating_raw: str
    deadline_raw: str
    deadline_kind: str
    due_date: date | None
    deadline_note: str | None
    dimension: int | None
    subdimension: str | None
    dimension_confidence: float | None
    flags: tuple[str, ...]
    agencies: tuple[AgencyRef, ...]
    units: Mapping[int, AssignmentRole]  # unit id → assignment role; lead wins over coordinating


def _referenced(session: Session, assignment_ids: Sequence[int]) -> set[int]:
    """Assignments that carry work or history and must not be deleted."""
    if not assignment_ids:
        return set()
    used: set[int] = set()
    for model in (ProgressUpdate, Evidence, AssignmentOfficial, OutboxMessage, ReminderLog):
        column = col(model.assignment_id)
        rows = session.exec(select(column).where(column.in_(assignment_ids)).distinct()).all()
        used.update(int(r) for r in rows if r is not None)
    busy = session.exec(
        select(Assignment.id).where(
            col(Assignment.id).in_(assignment_ids),
            col(Assignment.status) != AssignmentStatus.NOT_STARTED,
        )
    ).all()
    used.update(int(r) for r in busy if r is not None)
    return used


def _fill_task(row: Task, fields: TaskFields, order: int) -> None:
    row.order, row.stt, row.section, row.text = order, fields.stt, fields.section, fields.text
    row.lead_raw, row.coordinating_raw = fields.lead_raw, fields.coordinating_raw
    row.deadline_raw, row.deadline_kind = fields.deadline_raw, fields.deadline_kind
    row.due_date, row.deadline_note = fields.due_date, fields.deadline_note
    row.dimension, row.subdimension = fields.dimension, fields.subdimension
    row.dimension_confidence = fields.dimension_confidence
    row.flags = list(fields.flags)


def _sync_assignments(session: Session, task_id: int, wanted: Mapping[int, AssignmentRole]) -> None:
    existing = session.exec(select(Assignment).where(Assignment.task_id == task_id)).all()
    keep = _referenced(session, [a.id for a in existing if a.id is not None])
    have: set[int] = set()
    for assignment in existing:
        if assignment.unit_id in wanted:
            assignment.role = wanted[assignment.unit_id]
            have.add(assignment.unit_id)
        elif assignment.id not in keep:
            session.delete(assignment)
    session.add_all(
        Assignment(task_id=task_id, unit_id=unit_id, role=role)
        for unit_id, role in wanted.items()
        if unit_id not in have
    )


def _retire_task(session: Session, task: Task) -> None:
    """A task the new file no longer has: delete it unless it carries work."""
    assert task.id is not None
    assignments = session.exec(select(Assignment).where(Assignment.task_id == task.id)).all()
    keep = _referenced(session, [a.id for a in assignments if a.id is not None])
    session.execute(delete(TaskAgency).where(col(TaskAgency.task_id) == task.id))
    for assignment in assignments:
        if assignment.id not in keep:
            session.delete(assignment)
    if keep:
        task.flags = [*task.flags, FLAG_REMOVED]
    else:
        session.flush()
        session.delete(task)


def write_plan(
    session: Session, fields: PlanFields, tasks: Sequence[TaskFields], existing: Plan | None
) -> Plan:
    """Write the plan (new, or ``existing`` updated in place) and its tasks (flushed)."""
    plan = existing or Plan(year=fields.year, title=fields.title)
    plan.province_id, plan.year, plan.title = fields.province_id, fields.year, fields.title
    plan.number, plan.source_file = fields.number, fields.source_file
    plan.source_sha256, plan.report_deadlines = fields.source_sha256, list(fields.report_deadlines)
    session.add(plan)
    session.flush()
    assert plan.id is not None
    old = {t.order: t for t in session.exec(select(Task).where(Task.plan_id == plan.id)).all()}
    agencies: list[dict[str, object]] = []
    fresh: list[dict[str, object]] = []
    for order, task in enumerate(tasks, 1):
        previous = old.pop(order, None)
        row = previous or Task(plan_id=plan.id, order=order, text=task.text)
        _fill_task(row, task, order)
        session.add(row)
        session.flush()
        assert row.id is not None
        agencies.extend(
            {"task_id": row.id, "role": a.role, "raw_name": a.raw_name, "unit_id": a.unit_id}
            for a in task.agencies
        )
        if previous is None:  # a new task: nothing to reconcile, insert in bulk below
            fresh.extend(
                {"task_id": row.id, "unit_id": u, "role": r} for u, r in task.units.items()
            )
        else:
            session.execute(delete(TaskAgency).where(col(TaskAgency.task_id) == row.id))
            _sync_assignments(session, row.id, task.units)
    # Core inserts: a plan fans out to thousands of rows; ORM objects would cost seconds.
    if agencies:
        session.execute(insert(TaskAgency), agencies)
    if fresh:
        now = utcnow()
        session.execute(insert(Assignment), [{**a, "created_at": now} for a in fresh])
    for leftover in old.values():
        _retire_task(session, leftover)
    session.flush()
    return plan
