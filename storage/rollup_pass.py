"""One pass over a subtree's assignments for the roll-up: the figures of the period and,
in the same statement, of the period before it, grouped by one or more key sets.

Each assignment's state at each window's end comes from ``rollup_sql.state_columns`` (the
row itself, or the state it keeps of its history). Walking the subtree once for both
windows costs about one walk; SQLite's per-row work is the figures, computed once per row
in a subquery it does not flatten (a UNION ALL of the root's children's subtrees and the
root's own assignments). Several key sets (a province's 100+ communes: by child, by task)
read the rows from one materialised CTE, not from a second walk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage.models import Assignment, AssignmentStatus, ProgressUpdate, Task
from storage.rollup_sql import (
    AS_OF,
    AS_OF_DAY,
    CUTOFF,
    DONE,
    GROUP_KEYS,
    ONE,
    START,
    ZERO,
    GroupRow,
    Scope,
    Window,
    const,
    latest_before,
    role_values,
    state_columns,
    subtree_rows,
)
from storage.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class Binds:
    """The bound parameters of one window."""

    prefix: str
    start: Any
    as_of: Any
    cutoff: Any
    as_of_day: Any

    def values(self, window: Window) -> dict[str, Any]:
        return {
            f"{self.prefix}start": window.start,
            f"{self.prefix}as_of": window.as_of,
            f"{self.prefix}cutoff": window.as_of - timedelta(days=window.silence_days),
            f"{self.prefix}as_of_day": window.as_of_day,
        }


BINDS = (
    Binds("", START, AS_OF, CUTOFF, AS_OF_DAY),
    Binds(
        "p_",
        bindparam("p_start", type_=UTCDateTime()),
        bindparam("p_as_of", type_=UTCDateTime()),
        bindparam("p_cutoff", type_=UTCDateTime()),
        bindparam("p_as_of_day", type_=Date()),
    ),
)
Shape = tuple[bool, str | None]  # (historic, mark) of a window: what its statement reads
FIGURES = ("st", "overdue", "silent", "newly", "pct")


def _done_between(assignment_id: Any, b: Binds) -> Any:
    """A "done" update of the assignment in [start, as_of)."""
    pu = aliased(ProgressUpdate, name="period_done")
    return (
        select(col(pu.id))
        .where(
            col(pu.assignment_id) == assignment_id,
            col(pu.status) == DONE,
            col(pu.created_at) >= b.start,
            col(pu.created_at) < b.as_of,
        )
        .exists()
    )


def _figures(shape: Shape, b: Binds) -> list[Any]:
    """One row's figures for one window, labelled ``<prefix><figure>``."""
    historic, mark = shape
    c = state_columns(historic, mark, b.as_of)
    aid = col(Assignment.id)
    kind, due = col(Task.deadline_kind), col(Task.due_date)
    created = col(Assignment.created_at)
    # A recurring task is reported per period: done for this window when it is done at its
    # end (this report period's answer) or was reported done within it (the task has been
    # opened again for the next period since).
    recurring = kind == const("recurring")
    done_in_window = _done_between(aid, b)
    st = case((and_(recurring, c["st"] != DONE, done_in_window), DONE), else_=c["st"])
    not_done = st != DONE
    # Not done at the start: the history has said "done" only since then (kept on the row);
    # the history is probed only where that is not known.
    at_start = func.coalesce(latest_before(col(ProgressUpdate.status), b.start, aid), const(""))
    not_done_at_start = case(
        (c["done_since"].is_not(None), c["done_since"] >= b.start),
        else_=at_start != DONE,
    )
    newly_done = case(
        (recurring, done_in_window),
        (and_(c["st"] == DONE, c["done_at"] >= b.start), not_done_at_start),
        else_=false(),
    )
    lu = c["lu"]
    overdue = and_(not_done, kind == const("date"), due < b.as_of_day)
    silent = and_(not_done, or_(lu < b.cutoff, and_(lu.is_(None), created < b.cutoff)))
    values = {
        "st": st,
        "overdue": case((overdue, ONE), else_=ZERO),
        "silent": case((silent, ONE), else_=ZERO),
        "newly": case((and_(st == DONE, newly_done), ONE), else_=ZERO),
        "pct": case((st == DONE, const(100)), else_=func.coalesce(c["pct"], ZERO)),
    }
    return [values[name].label(f"{b.prefix}{name}") for name in FIGURES]


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, ONE), else_=ZERO)), ZERO)


def _sums(r: Any, prefix: str) -> list[Any]:
    st = r[f"{prefix}st"]
    return [
        _count(st == const(AssignmentStatus.NOT_STARTED)),
        _count(st == const(AssignmentStatus.IN_PROGRESS)),
        _count(st == DONE),
        _count(st == const(AssignmentStatus.BLOCKED)),
        *(func.coalesce(func.sum(r[f"{prefix}{name}"]), ZERO) for name in FIGURES[1:]),
    ]


KEY_TYPES = {"child_id": Integer, "task_id": Integer, "role": String}


@cache
def statement(
    dialect: str,
    by_plan: bool,
    roles: int,
    shapes: tuple[Shape, ...],
    sets: tuple[tuple[str, ...], ...],
    materialize: bool,
) -> Any:
    """(set index, child, task, role, eight figures per window) per group of each set."""
    figures = [f for shape, b in zip(shapes, BINDS, strict=False) for f in _figures(shape, b)]
    keys: list[Any] = [col(Assignment.task_id).label("task_id"), col(Assignment.role).label("role")]
    # The plan filter is the first window's (the caller makes sure both windows agree).
    parts = [
        subtree_rows(
            dialect,
            children=children,
            by_plan=by_plan,
            roles=roles,
            columns=[*keys, *figures],
            as_of=AS_OF,
        )
        for children in (True, False)
    ]
    rows = union_all(*parts)
    source: Any = rows.cte("figures") if len(sets) > 1 else rows.subquery("figures")
    if len(sets) > 1 and materialize:
        source = source.prefix_with("MATERIALIZED")  # read once per set, computed once
    r = source.c
    selects = []
    for index, by in enumerate(sets):
        out_keys = [
            r[key] if key in by else sql_cast(null(), KEY_TYPES[key]).label(key)
            for key in GROUP_KEYS
        ]
        sums = [s for b in BINDS[: len(shapes)] for s in _sums(r, b.prefix)]
        selects.append(
            select(const(index).label("set_index"), *out_keys, *sums)
            .select_from(source)
            .group_by(*(r[key] for key in by))
        )
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _materialize(session: Session) -> bool:
    """PostgreSQL ≥ 12 and SQLite ≥ 3.35 know ``AS MATERIALIZED``."""
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 35)
    return (dialect.server_version_info or (0,)) >= (12,)


def grouped(
    session: Session,
    scope: Scope,
    windows: Sequence[Window],
    sets: Sequence[tuple[str, ...]],
) -> list[list[list[GroupRow]]]:
    """``[set][window]`` → counts per group of the set's keys (of child of the root, task,
    role; the root's own assignments count as a child with the root's id), for one or two
    windows (the second: the period before, whose plans must be the first's)."""
    assert 1 <= len(windows) <= len(BINDS)
    shapes = tuple((w.historic, w.mark if w.historic else None) for w in windows)
    query = statement(
        session.get_bind().dialect.name,
        scope.plan_id is not None,
        len(scope.roles),
        shapes,
        tuple(sets),
        _materialize(session),
    )
    values: dict[str, Any] = {
        "root_id": scope.root_id,
        **role_values(scope.roles),
        "plan_id": scope.plan_id,
    }
    for window, b in zip(windows, BINDS, strict=False):
        values.update(b.values(window))
    out: list[list[list[GroupRow]]] = [[[] for _ in windows] for _ in sets]
    width = len(FIGURES) + 3  # four status counts, then the other figures
    for row in session.exec(query, params=values).all():
        index, child, task, role = row[:4]
        figures = [int(value) for value in row[4:]]  # PostgreSQL: sum(bigint) is numeric
        for w, rows in enumerate(out[index]):
            rows.append(GroupRow(child, task, role, tuple(figures[w * width : (w + 1) * width])))
    return out
