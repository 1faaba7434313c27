"""Writing a parsed plan: Plan, Task, TaskAgency and Assignment rows, in the caller's
transaction (the caller commits, or rolls back on any error: nothing half-written).

Agencies resolve against the units under the province (``Unit.path`` prefix). Each task gets
one assignment per resolved lead unit (``role="lead"``) and one per resolved coordinating
commune, district or department (``role="coordinating"``): communes coordinate most tasks and
must see them. A (task, unit) pair is never duplicated: lead wins.

Importing the same plan again (same province and same file content, or same year and title)
raises :class:`PlanAlreadyImported` unless ``replace=True``, which updates the plan in place:
tasks are matched by their position, assignments that carry work (progress, evidence,
officials, sent messages) are kept, the others follow the new file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert
from sqlmodel import Session, col, select

from bot.planimport.agencies import UnitIndex
from bot.planimport.model import (
    FLAG_UNRESOLVED_AGENCY,
    ParsedPlan,
    ParsedTask,
    PlanAlreadyImported,
    PlanFormatError,
)
from bot.reports.scores import StatedScores, save_stated
from kernel.i18n import _
from storage.models import (
    Assignment,
    AssignmentOfficial,
    Evidence,
    OutboxMessage,
    Plan,
    ProgressUpdate,
    ReminderLog,
    Task,
    TaskAgency,
    Unit,
    utcnow,
)

COORDINATING_LEVELS = ("commune", "district", "department")
FLAG_REMOVED = "removed_from_plan"


@dataclass
class Resolution:
    """Units per agency name of one task; names that matched nothing."""

    lead: dict[str, list[Unit]]
    coordinating: dict[str, list[Unit]]
    unresolved: list[str]


def province_units(session: Session, province: Unit) -> list[Unit]:
    """The province and every unit under it."""
    if province.path:
        pattern = province.path + "%"
        return list(session.exec(select(Unit).where(col(Unit.path).like(pattern))).all())
    found, frontier = [province], [province.id]
    while frontier:  # no materialised path: walk the tree
        children = session.exec(select(Unit).where(col(Unit.parent_id).in_(frontier))).all()
        found.extend(children)
        frontier = [child.id for child in children]
    return found


def resolve_task(index: UnitIndex, task: ParsedTask) -> Resolution:
    lead = {name: index.resolve(name) for name in task.lead}
    coordinating = {name: index.resolve(name) for name in task.coordinating}
    unresolved = [name for name, units in (*lead.items(), *coordinating.items()) if not units]
    return Resolution(lead=lead, coordinating=coordinating, unresolved=unresolved)


def resolve_plan(session: Session, parsed: ParsedPlan, province: Unit) -> list[Resolution]:
    """How every task's agencies resolve under ``province`` (also for a dry run)."""
    index = UnitIndex.build(province_units(session, province))
    return [resolve_task(index, task) for task in parsed.tasks]


def find_existing(session: Session, parsed: ParsedPlan, province: Unit) -> Plan | None:
    same_file = col(Plan.source_sha256) == parsed.source_sha256
    same_plan = (col(Plan.year) == parsed.year) & (col(Plan.title) == parsed.title)
    query = select(Plan).where(col(Plan.province_id) == province.id)
    return session.exec(
        query.where(same_file | same_plan if parsed.source_sha256 else same_plan)
    ).first()


def _wanted_units(resolution: Resolution) -> dict[int, str]:
    """unit id → role for one task; lead wins over coordinating."""
    wanted: dict[int, str] = {}
    for units in resolution.lead.values():
        for unit in units:
            assert unit.id is not None
            wanted[unit.id] = "lead"
    for units in resolution.coordinating.values():
        for unit in units:
            assert unit.id is not None
            if unit.level in COORDINATING_LEVELS:
                wanted.setdefault(unit.id, "coordinating")
    return wanted


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
            col(Assignment.id).in_(assignment_ids), col(Assignment.status) != "not_started"
        )
    ).all()
    used.update(int(r) for r in busy if r is not None)
    return used


def _fill_task(row: Task, parsed: ParsedTask, resolution: Resolution, order: int) -> None:
    flags = list(parsed.flags)
    if resolution.unresolved and FLAG_UNRESOLVED_AGENCY not in flags:
        flags.append(FLAG_UNRESOLVED_AGENCY)
    row.order, row.stt, row.section, row.text = order, parsed.stt, parsed.section, parsed.text
    row.lead_raw = "; ".join(parsed.lead)
    row.coordinating_raw = "; ".join(parsed.coordinating)
    row.deadline_raw, row.deadline_kind = parsed.deadline.raw, parsed.deadline.kind
    row.due_date, row.deadline_note = parsed.deadline.due, parsed.deadline.note
    row.dimension, row.subdimension = parsed.dimension, parsed.subdimension
    row.dimension_confidence = parsed.confidence
    row.flags = flags


def _agency_rows(task_id: int, resolution: Resolution) -> Iterable[dict[str, object]]:
    for role, names in (("lead", resolution.lead), ("coordinating", resolution.coordinating)):
        for name, units in names.items():
            for unit_id in [unit.id for unit in units] or [None]:
                yield {"task_id": task_id, "role": role, "raw_name": name, "unit_id": unit_id}


def _sync_assignments(session: Session, task_id: int, wanted: dict[int, str]) -> None:
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


def store_plan(
    session: Session, parsed: ParsedPlan, province: Unit, *, replace: bool = False
) -> Plan:
    """Write ``parsed`` for ``province``; the caller's transaction commits it."""
    if parsed.year is None:
        raise PlanFormatError(
            _("%(file)s: the plan's year is unknown: pass --year")
            % {"file": parsed.source_file or parsed.title}
        )
    existing = find_existing(session, parsed, province)
    if existing is not None and not replace:
        raise PlanAlreadyImported(
            _("plan already imported as #%(id)s (%(title)s): use --replace to update it")
            % {"id": existing.id, "title": existing.title}
        )
    plan = existing or Plan(year=parsed.year, title=parsed.title)
    plan.province_id, plan.year, plan.title = province.id, parsed.year, parsed.title
    plan.number, plan.source_file = parsed.number, parsed.source_file
    plan.source_sha256, plan.report_deadlines = parsed.source_sha256, list(parsed.report_deadlines)
    session.add(plan)
    session.flush()
    assert plan.id is not None
    old = {t.order: t for t in session.exec(select(Task).where(Task.plan_id == plan.id)).all()}
    resolutions = resolve_plan(session, parsed, province)
    agencies: list[dict[str, object]] = []
    fresh: list[dict[str, object]] = []
    for order, (task, resolution) in enumerate(zip(parsed.tasks, resolutions, strict=True), 1):
        previous = old.pop(order, None)
        row = previous or Task(plan_id=plan.id, order=order, text=task.text)
        _fill_task(row, task, resolution, order)
        session.add(row)
        session.flush()
        assert row.id is not None
        agencies.extend(_agency_rows(row.id, resolution))
        wanted = _wanted_units(resolution)
        if previous is None:  # a new task: nothing to reconcile, insert in bulk below
            fresh.extend({"task_id": row.id, "unit_id": u, "role": r} for u, r in wanted.items())
        else:
            session.execute(delete(TaskAgency).where(col(TaskAgency.task_id) == row.id))
            _sync_assignments(session, row.id, wanted)
    # Core inserts: a plan fans out to thousands of rows; ORM objects would cost seconds.
    if agencies:
        session.execute(insert(TaskAgency), agencies)
    if fresh:
        now = utcnow()
        session.execute(insert(Assignment), [{**a, "created_at": now} for a in fresh])
    for leftover in old.values():
        _retire_task(session, leftover)
    if parsed.scores and parsed.scores_year and province.id is not None:
        # The scores a prose plan states become the province's latest: reports put the
        # weakest dimensions first.
        save_stated(session, province.id, StatedScores(parsed.scores_year, dict(parsed.scores)))
    session.flush()
    return plan


def count_assignments(session: Session, plan: Plan) -> int:
    query = (
        select(func.count())
        .select_from(Assignment)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(col(Task.plan_id) == plan.id)
    )
    return int(session.exec(query).one())
