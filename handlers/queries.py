"""Read-only lookups the conversation shares: an official's open tasks, a unit's tasks, a
task's recent updates. Ordering rules live here so the list and the paging agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, exists, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from handlers.permissions import Assignees, unit_has_chair_clause
from storage.item_values import AssignmentValues, TaskValues, read_item
from storage.models import (
    Assignment,
    AssignmentOfficial,
    AssignmentStatus,
    Official,
    Plan,
    ProgressUpdate,
    Role,
    Task,
    Unit,
)
from storage.person import OfficialFacts
from storage.plan_admin import live_plan
from storage.plans import FLAG_REMOVED
from storage.prepared import session_connection

REMOVED_FLAG = FLAG_REMOVED  # set by the plan import on tasks a new file dropped


@dataclass(frozen=True, slots=True)
class Item:
    """An assignment with its task: ORM objects, or (``item_with_assignees``, every status
    reply) the same columns as plain values (``storage.item_values``)."""

    assignment: Assignment | AssignmentValues
    task: Task | TaskValues
    # The plan's report calendar, read with the item (``item_deadlines``: no query for the
    # plan, and no ORM object of it); None: not read.
    plan_deadlines: tuple[str, ...] | None = None

    @property
    def id(self) -> int:
        assert self.assignment.id is not None
        return self.assignment.id

    def overdue(self, today: date) -> bool:
        return (
            self.assignment.status != AssignmentStatus.DONE
            and self.task.deadline_kind == "date"
            and self.task.due_date is not None
            and self.task.due_date < today
        )


def sort_items(items: list[Item], today: date) -> list[Item]:
    """Overdue first, then by PAPI dimension (unclassified last), then by due date."""

    def key(item: Item) -> tuple[int, int, date, int, int]:
        due = item.task.due_date or date.max
        dimension = item.task.dimension or 99
        if item.overdue(today):
            return (0, 0, due, item.task.order, item.id)
        return (1, dimension, due, item.task.order, item.id)

    return sorted(items, key=key)


def _live(items: list[tuple[Assignment, Task]]) -> list[Item]:
    return [Item(a, t) for a, t in items if REMOVED_FLAG not in (t.flags or [])]


def my_items(session: Session, official: OfficialFacts, today: date) -> list[Item]:
    """The official's open assignments (not done), in list order: one query (whether their
    unit has a chair is asked inside it)."""
    assigned = select(AssignmentOfficial.assignment_id).where(
        AssignmentOfficial.official_id == official.id
    )
    nobody = ~exists().where(col(AssignmentOfficial.assignment_id) == col(Assignment.id))
    unassigned_here = (col(Assignment.unit_id) == official.unit_id) & nobody
    if official.role != Role.CHAIR:  # only when the unit has no chair (a department)
        unassigned_here = unassigned_here & ~unit_has_chair_clause(official.unit_id)
    conditions: list[ColumnElement[bool]] = [col(Assignment.id).in_(assigned), unassigned_here]
    rows = session.exec(
        select(Assignment, Task)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(or_(*conditions))
        .where(Assignment.status != AssignmentStatus.DONE, live_plan())
    ).all()
    return sort_items(_live(list(rows)), today)


def unit_items(session: Session, root: Unit) -> list[tuple[Item, Unit]]:
    """Every assignment in ``root``'s subtree with its unit."""
    rows = session.exec(
        select(Assignment, Task, Unit)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Unit, col(Unit.id) == col(Assignment.unit_id))
        .where(col(Unit.path).startswith(root.path), live_plan())
    ).all()
    return [(Item(a, t), u) for a, t, u in rows if REMOVED_FLAG not in (t.flags or [])]


def _item_query(assignment_id: int) -> Select[Assignment, Task, list[str]]:
    # The plan's report calendar comes along: the deadline words and a recurring task's
    # period read it (``item_deadlines``).
    return (
        select(Assignment, Task, col(Plan.report_deadlines))
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(col(Assignment.id) == assignment_id)
    )


def item(session: Session, assignment_id: int) -> Item | None:
    """The assignment with its task (and plan), in one query."""
    row = session.exec(_item_query(assignment_id)).first()
    return Item(row[0], row[1], tuple(row[2] or ())) if row is not None else None


def item_with_assignees(
    session: Session, assignment_id: int, official_id: int | None
) -> tuple[Item, Assignees] | None:
    """The assignment with its task and who it is assigned to (is it ``official_id``, is it
    anyone), all in one statement, as plain values: what a permission check and a status
    reply need for an official's own task."""
    session.flush()  # as the ORM's own reads would (nothing pending: nothing to do)
    found = read_item(session_connection(session), assignment_id, official_id)
    if found is None:
        return None
    entry = Item(found.assignment, found.task, found.report_deadlines)
    return entry, Assignees(mine=found.mine, anyone=found.anyone)


def recent_updates(
    session: Session, assignment_id: int, limit: int = 3
) -> list[tuple[ProgressUpdate, str | None]]:
    rows = session.exec(
        select(ProgressUpdate, Official.name)
        .join(Official, col(Official.id) == col(ProgressUpdate.official_id), isouter=True)
        .where(ProgressUpdate.assignment_id == assignment_id)
        .order_by(col(ProgressUpdate.created_at).desc(), col(ProgressUpdate.id).desc())
        .limit(limit)
    ).all()
    return [(update, name) for update, name in rows]


def assignee_names(session: Session, assignment_id: int) -> list[str]:
    rows = session.exec(
        select(Official.name)
        .join(AssignmentOfficial, col(AssignmentOfficial.official_id) == col(Official.id))
        .where(AssignmentOfficial.assignment_id == assignment_id)
        .order_by(col(Official.name))
    ).all()
    return list(rows)


def item_deadlines(session: Session, entry: Item, configured: Sequence[str]) -> list[str]:
    """The item's plan's report calendar (read with it, where it was), else the configured
    one."""
    if entry.plan_deadlines is None:
        return report_deadlines(session, entry.task, configured)
    return list(entry.plan_deadlines) or list(configured)


def report_deadlines(
    session: Session, task: Task | TaskValues, configured: Sequence[str]
) -> list[str]:
    """The plan's report calendar, else the configured one."""
    plan = session.get(Plan, task.plan_id)
    if plan is not None and plan.report_deadlines:
        return list(plan.report_deadlines)
    return list(configured)


def unit_officials(session: Session, unit_id: int) -> list[Official]:
    """Active officials of a unit, in a stable order (the chair's numbered pick list)."""
    return list(
        session.exec(
            select(Official)
            .where(Official.unit_id == unit_id)
            .where(col(Official.active).is_(True))
            .order_by(col(Official.id))
        ).all()
    )
