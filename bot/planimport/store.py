"""Storing a parsed plan: which units its agencies are, then ``storage.plans.write_plan``
writes the Plan, Task, TaskAgency and Assignment rows in the caller's transaction (the caller
commits, or rolls back on any error: nothing half-written).

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

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func
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
from storage.models import Assignment, AssignmentRole, Plan, Task, Unit, UnitLevel
from storage.plans import AgencyRef, PlanFields, TaskFields, write_plan

COORDINATING_LEVELS = (UnitLevel.COMMUNE, UnitLevel.DISTRICT, UnitLevel.DEPARTMENT)


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


def _wanted_units(resolution: Resolution) -> dict[int, AssignmentRole]:
    """unit id → role for one task; lead wins over coordinating."""
    wanted: dict[int, AssignmentRole] = {}
    for units in resolution.lead.values():
        for unit in units:
            assert unit.id is not None
            wanted[unit.id] = AssignmentRole.LEAD
    for units in resolution.coordinating.values():
        for unit in units:
            assert unit.id is not None
            if unit.level in COORDINATING_LEVELS:
                wanted.setdefault(unit.id, AssignmentRole.COORDINATING)
    return wanted


def task_fields(parsed: ParsedTask, resolution: Resolution) -> TaskFields:
    """What storage writes for one task: its cells, its agencies, the units that carry it."""
    flags = list(parsed.flags)
    if resolution.unresolved and FLAG_UNRESOLVED_AGENCY not in flags:
        flags.append(FLAG_UNRESOLVED_AGENCY)
    return TaskFields(
        stt=parsed.stt,
        section=parsed.section,
        text=parsed.text,
        lead_raw="; ".join(parsed.lead),
        coordinating_raw="; ".join(parsed.coordinating),
        deadline_raw=parsed.deadline.raw,
        deadline_kind=parsed.deadline.kind,
        due_date=parsed.deadline.due,
        deadline_note=parsed.deadline.note,
        dimension=parsed.dimension,
        subdimension=parsed.subdimension,
        dimension_confidence=parsed.confidence,
        flags=tuple(flags),
        agencies=tuple(_agencies(resolution)),
        units=_wanted_units(resolution),
    )


def _agencies(resolution: Resolution) -> Iterable[AgencyRef]:
    lead, coordinating = AssignmentRole.LEAD, AssignmentRole.COORDINATING
    for role, names in ((lead, resolution.lead), (coordinating, resolution.coordinating)):
        for name, units in names.items():
            for unit_id in [unit.id for unit in units] or [None]:
                yield AgencyRef(role, name, unit_id)


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
    fields = PlanFields(
        province_id=province.id,
        year=parsed.year,
        title=parsed.title,
        number=parsed.number,
        source_file=parsed.source_file,
        source_sha256=parsed.source_sha256,
        report_deadlines=tuple(parsed.report_deadlines),
    )
    resolutions = resolve_plan(session, parsed, province)
    tasks = [task_fields(t, r) for t, r in zip(parsed.tasks, resolutions, strict=True)]
    plan = write_plan(session, fields, tasks, existing)
    if parsed.scores and parsed.scores_year and province.id is not None:
        # The scores a prose plan states become the province's latest: reports put the
        # weakest dimensions first.
        save_stated(session, province.id, StatedScores(parsed.scores_year, dict(parsed.scores)))
    return plan


def count_assignments(session: Session, plan: Plan) -> int:
    query = (
        select(func.count())
        .select_from(Assignment)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(col(Task.plan_id) == plan.id)
    )
    return int(session.exec(query).one())
