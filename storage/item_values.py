"""An assignment with its task as plain values: what a status reply reads, in one statement.

Every status reply and every task button reads the assignment it is about, with its task,
its plan's report calendar and whether it is the sender's. Read as ORM objects that cost
about 115 µs (the ORM statement, two instances and their state in the identity map) where
the same row read and converted by ``storage.prepared`` costs about 28 µs; in the database
process of ``papi-bot run`` it was about a fifth of the process's work
(docs/performance.md, "ninth pass"). ``AssignmentValues`` holds the columns the
conversation and ``storage.progress.record_progress`` read (the kept history state's latest
update and period marks among them: a reply writes the state its history then gives), and
``TaskValues`` the task's columns the conversation shows. ``record_progress`` updates the
values it wrote, as it updates an ORM object's committed state, so the reply's confirmation
reads the new status from them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, exists, select
from sqlalchemy.engine import Connection

from storage.models import Assignment, AssignmentOfficial, Plan, Task
from storage.prepared import Prepared


@dataclass(slots=True)
class AssignmentValues:
    """The assignment's own columns and what ``history_state.after_update`` reads."""

    id: int
    task_id: int
    unit_id: int
    role: str
    status: str
    percent: int
    note: str | None
    created_at: datetime
    last_update_at: datetime | None
    done_at: datetime | None
    history_status: str | None
    history_percent: int | None
    history_at: datetime | None
    done_since: datetime | None
    week_mark: datetime | None
    month_mark: datetime | None
    quarter_mark: datetime | None
    half_mark: datetime | None
    year_mark: datetime | None


@dataclass(frozen=True, slots=True)
class TaskValues:
    """The task's columns the conversation shows: its words, its deadline and its place in
    the plan and in the PAPI dimensions."""

    id: int
    plan_id: int
    order: int
    text: str
    lead_raw: str
    coordinating_raw: str
    deadline_raw: str
    deadline_kind: str
    due_date: date | None
    dimension: int | None
    subdimension: str | None


@dataclass(frozen=True, slots=True)
class ItemRow:
    assignment: AssignmentValues
    task: TaskValues
    report_deadlines: tuple[str, ...]  # the plan's report calendar (empty: none of its own)
    mine: bool  # assigned to the official asked about
    anyone: bool  # assigned to any official (else: to the unit's chairs)


_ASSIGNMENT_NAMES = tuple(f.name for f in fields(AssignmentValues))
VALUE_NAMES = frozenset(_ASSIGNMENT_NAMES)
_TASK_NAMES = tuple(f.name for f in fields(TaskValues))


def _statement() -> Prepared:
    a: Table = Assignment.__table__  # type: ignore[attr-defined]
    t: Table = Task.__table__  # type: ignore[attr-defined]
    p: Table = Plan.__table__  # type: ignore[attr-defined]
    ao: Table = AssignmentOfficial.__table__  # type: ignore[attr-defined]
    mine = exists().where(ao.c.assignment_id == a.c.id, ao.c.official_id == bindparam("official"))
    anyone = exists().where(ao.c.assignment_id == a.c.id)
    return Prepared(
        select(
            *(a.c[name] for name in _ASSIGNMENT_NAMES),
            *(t.c[name].label(f"task_{name}") for name in _TASK_NAMES),
            p.c.report_deadlines,
            mine.label("mine"),
            anyone.label("anyone"),
        )
        .join(t, t.c.id == a.c.task_id)
        .join(p, p.c.id == t.c.plan_id)
        .where(a.c.id == bindparam("assignment"))
    )


# Built once: asked for every status reply (an official id of None matches no assignee).
_ITEM = _statement()
_SPLIT = len(_ASSIGNMENT_NAMES)
_END = _SPLIT + len(_TASK_NAMES)


def read_item(
    connection: Connection, assignment_id: int, official_id: int | None
) -> ItemRow | None:
    """The assignment, its task, its plan's report calendar and its assignees, or None."""
    row: Any = _ITEM.first(connection, {"assignment": assignment_id, "official": official_id})
    if row is None:
        return None
    return ItemRow(
        AssignmentValues(*row[:_SPLIT]),
        TaskValues(*row[_SPLIT:_END]),
        tuple(row[_END] or ()),
        bool(row[_END + 1]),
        bool(row[_END + 2]),
    )


def _locked_statement() -> Prepared:
    a: Table = Assignment.__table__  # type: ignore[attr-defined]
    columns = [a.c[name] for name in _ASSIGNMENT_NAMES]
    return Prepared(select(*columns).where(a.c.id == bindparam("assignment")).with_for_update())


_LOCKED = _locked_statement()


def read_locked(connection: Connection, values: AssignmentValues) -> None:
    """Lock the assignment's row (PostgreSQL: another worker may have changed it since it was
    read) and read its columns again into ``values``."""
    row = _LOCKED.one(connection, {"assignment": values.id})
    for name, value in zip(_ASSIGNMENT_NAMES, row, strict=True):
        setattr(values, name, value)
