"""The SQL behind the roll-up: one GROUP BY over a unit subtree, as of a moment.

Two ways to know an assignment's status:
- *current* (the period is still running): the ``assignment`` row itself, which every
  progress update keeps up to date — one indexed join-and-group;
- *historic* (the period ended before now): the state the update history gives at the end
  of the period. The assignment row keeps it (storage/history_state.py) for the moments a
  roll-up asks most: any moment after its latest update, and the start of the week, month,
  quarter, half-year and year of its latest update (the end of the previous period). For
  other moments (an older period, a range) the history is asked: an index probe per
  assignment on ``(assignment_id, created_at)``.

"Done in the period" is done at the end and not done at the start: the kept ``done_since``
(since when the history says "done") answers the start too, so only recurring tasks (done
within the window) and moments the row does not keep probe the history.
The GROUP BY key is (child of the root, task, role), a few thousand rows even for the whole
country; the caller folds those into totals, dimensions, children and tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from storage.models import Assignment, AssignmentStatus, Plan, ProgressUpdate, Task, Unit
from storage.prepared import Prepared
from storage.types import UTCDateTime

# Statements are built once per shape and cached; the values travel as bound parameters.
# No expanding parameter (``IN`` of a list): SQLAlchemy would rewrite the whole statement's
# text at every execution. The roles are one bound parameter each (``role_binds``).
ROOT_ID = bindparam("root_id", type_=Integer())
PLAN_ID = bindparam("plan_id", type_=Integer())
START = bindparam("start", type_=UTCDateTime())
AS_OF = bindparam("as_of", type_=UTCDateTime())
CUTOFF = bindparam("cutoff", type_=UTCDateTime())
AS_OF_DAY = bindparam("as_of_day", type_=Date())


def const(value: str | int) -> Any:
    """A constant written into the statement's text instead of bound: a cached statement
    then carries only the parameters that change (a few dozen, not 270), each of which
    SQLAlchemy processes at every execution. Only the code's own constants, never input."""
    if isinstance(value, str):
        assert "'" not in value
        return literal_column(f"'{value}'", String())
    return literal_column(str(int(value)), Integer())


ZERO, ONE = const(0), const(1)
DONE = const(AssignmentStatus.DONE)


def role_binds(count: int) -> list[BindParameter[Any]]:
    """``role_0`` … : the scope's roles as one bound parameter each (see ``params``)."""
    return [bindparam(f"role_{i}", type_=String()) for i in range(count)]


def role_values(roles: tuple[str, ...]) -> dict[str, str]:
    return {f"role_{i}": str(role) for i, role in enumerate(roles)}


@dataclass(frozen=True, slots=True)
class Scope:
    root_id: int
    root_path: str
    roles: tuple[str, ...]
    plan_id: int | None = None
    # Some plan was retired before the (first) window's end: its tasks must be left out.
    # False when none was (the usual case): the statement then skips that test on every row.
    retired: bool = True


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # period start (aware)
    as_of: datetime  # min(period end, now) (aware)
    as_of_day: date  # local calendar day of as_of: a due date before it is overdue
    silence_days: int
    historic: bool  # True: statuses from the update history, not the assignment row
    mark: str | None = None  # historic: the period kind whose start ``as_of`` is (kept state)


class GroupRow(NamedTuple):
    child_id: int | None  # the root's child whose subtree carries these, or the root itself
    task_id: int | None  # None: not grouped by this key
    role: str | None
    values: tuple[int, ...]  # the figures in the order of ``Counts``' fields


@dataclass(frozen=True, slots=True)
class BlockedRow:
    assignment_id: int
    unit_id: int
    task_id: int
    note: str | None
    since: datetime | None


def latest_before(column: Any, moment: Any, assignment_id: Any, *, known: bool = False) -> Any:
    """The value of ``column`` on the latest update of the assignment before ``moment``
    (``known``: the latest update that gave a value, as a percent carries over)."""
    pu_time = col(ProgressUpdate.created_at)
    conditions = [col(ProgressUpdate.assignment_id) == assignment_id, pu_time < moment]
    if known:
        conditions.append(column.is_not(None))
    return (
        select(column)
        .where(*conditions)
        .order_by(pu_time.desc(), col(ProgressUpdate.id).desc())
        .limit(ONE)
        .offset(ZERO)
        .scalar_subquery()
    )


def in_subtree(dialect: str, path: Any, root_path: Any) -> ColumnElement[bool]:
    """``path LIKE root_path || '%'``, written so that SQLite can use the path index.

    SQLite's LIKE is case-insensitive and so never uses a BINARY index; the equivalent range
    ``root_path <= path < root_path with its final "/" bumped to "0"`` does (paths end with
    "/"). PostgreSQL keeps LIKE (index the column with ``text_pattern_ops``): a range would
    follow the locale's collation, which may ignore the slashes.
    """
    if dialect != "sqlite":
        return cast(ColumnElement[bool], path.like(root_path + "%"))
    if isinstance(root_path, str):
        upper: Any = root_path[:-1] + "0"
    else:
        upper = func.substr(root_path, 1, func.length(root_path) - 1) + "0"
    return and_(path >= root_path, path < upper)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def reader(session: Session) -> Connection:
    """The session's connection, once what the session holds is written (as ``Session.exec``
    would autoflush): a roll-up's Core statements skip the ORM's execution layer through it,
    some 20 µs a statement, which a province's one-millisecond floor shows."""
    if session.autoflush:
        session.flush()
    return session.connection()


def params(scope: Scope, window: Window) -> dict[str, Any]:
    return {
        "root_id": scope.root_id,
        **role_values(scope.roles),
        "plan_id": scope.plan_id,
        "start": window.start,
        "as_of": window.as_of,
        "cutoff": window.as_of - timedelta(days=window.silence_days),
        "as_of_day": window.as_of_day,
    }


def _kept(mark: str | None, as_of: Any) -> tuple[Any, dict[str, tuple[Any, Any]]]:
    """When the assignment row knows the state at ``as_of``, and where: (condition, then)
    for each of status, percent, at, done_since; None where only the history knows."""
    a = Assignment
    after_latest = or_(col(a.history_at).is_(None), col(a.history_at) < as_of)
    latest = {
        "status": col(a.history_status),
        "percent": col(a.history_percent),
        "at": col(a.history_at),
        "done_since": col(a.done_since),
    }
    if mark is None:
        return after_latest, {name: (value, None) for name, value in latest.items()}
    return col(getattr(a, f"{mark}_mark")) == as_of, {
        name: (value, col(getattr(a, f"{mark}_{name}"))) for name, value in latest.items()
    }


def _historic_state(mark: str | None, aid: Any, as_of: Any) -> dict[str, Any]:
    """Status, percent, last update time and done-since at ``as_of``: from the row's kept
    state where it holds that moment, else from the history (probes, evaluated only then)."""
    at_mark, sources = _kept(mark, as_of)
    after_latest = or_(col(Assignment.history_at).is_(None), col(Assignment.history_at) < as_of)
    probes = {
        "status": latest_before(col(ProgressUpdate.status), as_of, aid),
        # An update without a percent keeps the one reported before.
        "percent": latest_before(col(ProgressUpdate.percent), as_of, aid, known=True),
        "at": latest_before(col(ProgressUpdate.created_at), as_of, aid),
        "done_since": null(),  # not known: "done in the period" asks the history
    }
    out: dict[str, Any] = {}
    for name, (latest, kept) in sources.items():
        whens: list[Any] = [(after_latest, latest)]
        if kept is not None:
            whens.append((at_mark, kept))
        out[name] = case(*whens, else_=probes[name])
    out["status"] = func.coalesce(out["status"], const(AssignmentStatus.NOT_STARTED))
    return out


def state_columns(historic: bool, mark: str | None, as_of: Any = AS_OF) -> dict[str, Any]:
    """An assignment's status (``st``), percent (``pct``), last update (``lu``), last done
    report (``done_at``), done-since (None: unknown) and note at ``as_of``."""
    aid = col(Assignment.id)
    if historic:
        state = _historic_state(mark, aid, as_of)
        return {
            "st": state["status"],
            "pct": state["percent"],
            "lu": state["at"],
            "done_at": state["at"],
            "done_since": state["done_since"],
            "note": null(),  # the blocked list asks the history for the reason (``_reason``)
        }
    last_at = col(Assignment.last_update_at)
    return {
        "st": col(Assignment.status),
        "pct": col(Assignment.percent),
        "lu": last_at,
        # done_at is when it was last reported done; older rows may lack it.
        "done_at": func.coalesce(col(Assignment.done_at), last_at),
        "done_since": case(
            (col(Assignment.history_status) == DONE, col(Assignment.done_since)),
            else_=null(),
        ),
        "note": col(Assignment.note),
    }


def subtree_rows(
    dialect: str,
    *,
    children: bool,
    by_plan: bool,
    roles: int,
    columns: list[Any],
    as_of: Any = AS_OF,
    retired: bool = True,
) -> Select[Any]:
    """``columns`` of each assignment of the scope, after ``child_id``: the root's child
    whose subtree holds it (``children``), or the root (the root unit's own assignments);
    ``roles``: how many roles the scope counts (bound as ``role_0`` …)."""
    child = aliased(Unit, name="child")
    unit = aliased(Unit, name="member")
    child_id: Any = col(child.id) if children else ROOT_ID
    query: Select[Any] = select(child_id.label("child_id"), *columns)
    if children:
        # Walk child -> its subtree by the path index -> assignments by unit: the child id
        # is a plain column, so grouping by it costs no string work per row.
        query = (
            query.select_from(child)
            .join(unit, in_subtree(dialect, col(unit.path), col(child.path)))
            .join(Assignment, col(Assignment.unit_id) == col(unit.id))
            .where(col(child.parent_id) == ROOT_ID)
        )
    else:
        query = query.select_from(Assignment).where(col(Assignment.unit_id) == ROOT_ID)
    query = query.join(Task, col(Task.id) == col(Assignment.task_id)).where(
        col(Assignment.role).in_(role_binds(roles))
    )
    if by_plan:
        query = query.where(col(Task.plan_id) == PLAN_ID)
    if not retired:
        return query
    # A plan retired before the moment no longer counts; earlier periods still see it.
    return query.where(
        col(Task.plan_id).not_in(select(col(Plan.id)).where(col(Plan.retired_at) < as_of))
    )


def scoped_rows(
    dialect: str,
    *,
    historic: bool,
    children: bool,
    by_plan: bool,
    roles: int,
    retired: bool,
    mark: str | None = None,
) -> Any:
    """One row per assignment of the scope with its state as of ``as_of``."""
    state = state_columns(historic, mark)
    columns = [
        col(Assignment.id).label("aid"),
        col(Assignment.unit_id).label("unit_id"),
        col(Assignment.task_id).label("task_id"),
        *(value.label(name) for name, value in state.items()),
    ]
    query = subtree_rows(
        dialect, children=children, by_plan=by_plan, roles=roles, columns=columns, retired=retired
    )
    return query.subquery("scoped")


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


GROUP_KEYS = ("child_id", "task_id", "role")


def _reason(assignment_id: Any) -> Any:
    """The note of the latest status update before AS_OF (a later note-only update is a
    note, not the blocking reason)."""
    pu = aliased(ProgressUpdate, name="reason")
    return (
        select(col(pu.note))
        .where(
            col(pu.assignment_id) == assignment_id,
            col(pu.created_at) < AS_OF,
            col(pu.note_only) == false(),
        )
        .order_by(col(pu.created_at).desc(), col(pu.id).desc())
        .limit(ONE)
        .offset(ZERO)
        .scalar_subquery()
    )


@cache
def _blocked_statement(
    dialect: str, historic: bool, by_plan: bool, roles: int, retired: bool, mark: str | None
) -> Prepared:
    parts = []
    for children in (True, False):
        c = scoped_rows(
            dialect,
            historic=historic,
            children=children,
            by_plan=by_plan,
            roles=roles,
            retired=retired,
            mark=mark,
        ).c
        note = _reason(c.aid) if historic else c.note  # the row keeps the reason (handlers)
        parts.append(
            select(c.aid, c.unit_id, c.task_id, note.label("note"), c.lu).where(
                c.st == const(AssignmentStatus.BLOCKED)
            )
        )
    return Prepared(union_all(*parts))


def blocked(session: Session, scope: Scope, window: Window) -> list[BlockedRow]:
    query = _blocked_statement(
        _dialect(session),
        window.historic,
        scope.plan_id is not None,
        len(scope.roles),
        scope.retired,
        window.mark if window.historic else None,
    )
    rows = query.rows(reader(session), params(scope, window))
    return [BlockedRow(*row) for row in rows]


def unit_completion(
    session: Session, root_path: str, level: str, as_of_day: date
) -> list[tuple[int, str, int, int, int]]:
    """(unit id, name, assignments, done, overdue) of every unit of ``level`` under the root
    that carries at least one assignment, by the current status."""
    not_done = col(Assignment.status) != AssignmentStatus.DONE
    query = (
        select(
            col(Unit.id),
            col(Unit.name),
            func.count(col(Assignment.id)),
            _count(col(Assignment.status) == AssignmentStatus.DONE),
            _count(
                and_(
                    not_done,
                    col(Task.deadline_kind) == "date",
                    col(Task.due_date) < as_of_day,
                )
            ),
        )
        .join(Assignment, col(Assignment.unit_id) == col(Unit.id))
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(in_subtree(_dialect(session), col(Unit.path), root_path), col(Unit.level) == level)
        .group_by(col(Unit.id), col(Unit.name))
    )
    return [tuple(row) for row in session.exec(query).all()]  # type: ignore[call-overload]
