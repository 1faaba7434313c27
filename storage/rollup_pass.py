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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    case,
    false,
    func,
    null,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage import rollup_packing
from storage.models import Assignment, AssignmentStatus, ProgressUpdate, Task
from storage.prepared import Prepared
from storage.rollup_packing import columns, flagged, packed, unpack
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
    reader,
    role_binds,
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


def _figures(shape: Shape, b: Binds, bits: int | None) -> list[Any]:
    """One row's figures for one window, labelled ``<prefix><figure>``; with ``bits``,
    packed into two or three integers (``storage.rollup_packing``)."""
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
    # Not done at the start: the history has said "done" only since then (kept on the row);
    # the history is probed only where that is not known.
    at_start = func.coalesce(latest_before(col(ProgressUpdate.status), b.start, aid), const(""))
    # ``coalesce(a, b)`` rather than ``CASE WHEN a IS NOT NULL THEN a ELSE b END``: SQLite
    # evaluates ``a`` (a CASE itself for a past moment) once, not twice.
    not_done_at_start = func.coalesce(c["done_since"] >= b.start, at_start != DONE)
    newly_done = case((c["done_at"] >= b.start, not_done_at_start), else_=false())

    def by_done(done: Callable[[Any], Any], other: Any) -> Any:
        """``done(newly)`` where the row is done at the window's end, else ``other``. Split
        by the task's kind first, rather than ``CASE st WHEN 'done'``: ``st`` and "done in
        the period" would each test the kind and probe a recurring task's window, and four
        rows in five are done (the province's grouped statement 3 % cheaper, "Roll-up,
        eighth pass")."""
        return case(
            (
                recurring,
                case((done_in_window, done(True)), (c["st"] == DONE, done(False)), else_=other),
            ),
            (c["st"] == DONE, done(newly_done)),
            else_=other,
        )

    lu = c["lu"]
    late = and_(kind == const("date"), due < b.as_of_day)
    quiet = func.coalesce(lu, created) < b.cutoff  # never updated: silent since its creation
    pct = func.coalesce(c["pct"], ZERO)
    if bits is None:
        not_done = st != DONE
        values = {
            "st": st,
            "overdue": case((and_(not_done, late), ONE), else_=ZERO),
            "silent": case((and_(not_done, quiet), ONE), else_=ZERO),
            "newly": by_done(lambda newly: flagged(newly, 1, 0), ZERO),
            "pct": by_done(lambda _newly: const(100), pct),
        }
        return [values[name].label(f"{b.prefix}{name}") for name in FIGURES]
    # One CASE per packed column (``storage.rollup_packing``).
    integers = packed(st, late, quiet, pct, bits, by_done)
    return [v.label(f"{b.prefix}p{i}") for i, v in enumerate(integers)]


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, ONE), else_=ZERO)), ZERO)


def _sums(r: Any, prefix: str, bits: int | None) -> list[Any]:
    if bits is not None:
        return [func.coalesce(func.sum(r[f"{prefix}p{i}"]), ZERO) for i in range(columns(bits))]
    st = r[f"{prefix}st"]
    return [
        _count(st == const(AssignmentStatus.NOT_STARTED)),
        _count(st == const(AssignmentStatus.IN_PROGRESS)),
        _count(st == DONE),
        _count(st == const(AssignmentStatus.BLOCKED)),
        *(func.coalesce(func.sum(r[f"{prefix}{name}"]), ZERO) for name in FIGURES[1:]),
    ]


KEY_TYPES = {"child_id": Integer, "task_id": Integer, "role": Integer}


def role_index(roles: int) -> Any:
    """The assignment's role as its index among the scope's roles (``role_0`` …): grouping
    and materialising a small integer instead of its text costs SQLite less per row (the
    province's grouped statement 2–8 % in alternating runs); ``grouped`` gives the role's
    string back."""
    binds = role_binds(roles)
    if len(binds) == 1:
        return ZERO.label("role")
    return case(
        *((col(Assignment.role) == bind, const(i)) for i, bind in enumerate(binds[:-1])),
        else_=const(len(binds) - 1),
    ).label("role")


@cache
def statement(
    dialect: str,
    by_plan: bool,
    roles: int,
    retired: bool,
    shapes: tuple[Shape, ...],
    sets: tuple[tuple[str, ...], ...],
    materialize: bool,
    bits: int | None,
) -> Prepared:
    """(set index, child, task, role, count, then per window the eight figures, or with
    ``bits`` two or three packed sums) per group of each set; compiled once and run on the cursor
    (``storage.prepared``)."""
    windows = list(zip(shapes, BINDS, strict=False))
    figures = [f for shape, b in windows for f in _figures(shape, b, bits)]
    keys: list[Any] = [col(Assignment.task_id).label("task_id"), role_index(roles)]
    # The plan filter is the first window's (the caller makes sure both windows agree).
    parts = [
        subtree_rows(
            dialect,
            children=children,
            by_plan=by_plan,
            roles=roles,
            columns=[*keys, *figures],
            as_of=AS_OF,
            retired=retired,
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
        sums = [s for _shape, b in windows for s in _sums(r, b.prefix, bits)]
        selects.append(
            select(const(index).label("set_index"), *out_keys, func.count().label("n"), *sums)
            .select_from(source)
            .group_by(*(r[key] for key in by))
        )
    return Prepared(selects[0] if len(selects) == 1 else union_all(*selects))


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
    values: dict[str, Any] = {
        "root_id": scope.root_id,
        **role_values(scope.roles),
        "plan_id": scope.plan_id,
    }
    for window, b in zip(windows, BINDS, strict=False):
        values.update(b.values(window))
    rows = None
    hint = (scope.root_id, tuple(sets))
    too_few = _TOO_FEW.get(hint, 0)
    for bits in (*(b for b in rollup_packing.PACKING if b > too_few), None):
        rows = _run(session, scope, windows, sets, values, bits)
        if rows is not None:
            break
        # A group too large for ``bits``: counted again with a wider packing, or one sum
        # each; the next roll-up of this scope starts wider.
        if len(_TOO_FEW) >= HINTS:
            _TOO_FEW.clear()
        _TOO_FEW[hint] = max(too_few, bits or 0)
    assert rows is not None
    out: list[list[list[GroupRow]]] = [[[] for _ in windows] for _ in sets]
    roles = scope.roles
    for index, child, task, role, figures in rows:
        name = None if role is None else roles[role]
        for w, found in enumerate(out[index]):
            found.append(GroupRow(child, task, name, figures[w]))
    return out


# (root, key sets) → the most bits a figure known too few for its groups: only which packing
# to try first, never a figure (the counts always come from the statement just run).
_TOO_FEW: dict[tuple[int, tuple[tuple[str, ...], ...]], int] = {}
# Only a scope with a group of 1,024 rows or more gets a hint (the nation, a large
# province), a few key sets each: a thousand never fill up in practice, and a full table is
# cleared rather than grown.
HINTS = 1000


Row = tuple[int, int | None, int | None, int | None, list[tuple[int, ...]]]  # role: its index


def _run(
    session: Session,
    scope: Scope,
    windows: Sequence[Window],
    sets: Sequence[tuple[str, ...]],
    values: dict[str, Any],
    bits: int | None,
) -> list[Row] | None:
    """The grouped rows, each window's figures unpacked; None when ``bits`` cannot hold a
    group's counts (it has ``1 << bits`` rows or more)."""
    dialect = session.get_bind().dialect.name
    shapes = tuple((w.historic, w.mark if w.historic else None) for w in windows)
    query = statement(
        dialect,
        scope.plan_id is not None,
        len(scope.roles),
        scope.retired,
        shapes,
        tuple(sets),
        _materialize(session),
        bits,
    )
    try:
        found = query.rows(reader(session), values)
    except OperationalError as error:  # SQLite: a packed sum beyond its integers
        if bits is None or "overflow" not in str(error):
            raise
        return None
    width = columns(bits) if bits is not None else len(FIGURES) + 3
    starts = range(5, 5 + width * len(windows), width)
    out: list[Row] = []
    if bits is None:
        for row in found:
            figures = [tuple(int(v) for v in row[i : i + width]) for i in starts]
            out.append((row[0], row[1], row[2], row[3], figures))
        return out
    limit = 1 << bits
    for row in found:
        if row[4] >= limit:
            return None
        figures = [unpack(row[i : i + width], bits) for i in starts]
        out.append((row[0], row[1], row[2], row[3], figures))
    return out
