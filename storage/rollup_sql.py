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
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    false,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from storage.models import Assignment, AssignmentStatus, Plan, ProgressUpdate, Task, Unit
from storage.types import UTCDateTime

# Statements are built once per shape and cached; the values travel as bound parameters.
ROOT_ID = bindparam("root_id", type_=Integer())
ROLES: BindParameter[Any] = bindparam("roles", expanding=True)
PLAN_ID = bindparam("plan_id", type_=Integer())
START = bindparam("start", type_=UTCDateTime())
AS_OF = bindparam("as_of", type_=UTCDateTime())
CUTOFF = bindparam("cutoff", type_=UTCDateTime())
AS_OF_DAY = bindparam("as_of_day", type_=Date())


@dataclass(frozen=True, slots=True)
class Scope:
    root_id: int
    root_path: str
    roles: tuple[str, ...]
    plan_id: int | None = None


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # period start (aware)
    as_of: datetime  # min(period end, now) (aware)
    as_of_day: date  # local calendar day of as_of: a due date before it is overdue
    silence_days: int
    historic: bool  # True: statuses from the update history, not the assignment row
    mark: str | None = None  # historic: the period kind whose start ``as_of`` is (kept state)


@dataclass(frozen=True, slots=True)
class GroupRow:
    child_id: int | None  # the root's child whose subtree carries these, or the root itself
    task_id: int | None  # None: not grouped by this key
    role: str | None
    not_started: int
    in_progress: int
    done: int
    blocked: int
    overdue: int
    silent: int
    done_in_period: int
    percent_sum: int


@dataclass(frozen=True, slots=True)
class BlockedRow:
    assignment_id: int
    unit_id: int
    task_id: int
    note: str | None
    since: datetime | None


def _latest(column: Any, moment: Any, assignment_id: Any, *, known: bool = False) -> Any:
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
        .limit(1)
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


def params(scope: Scope, window: Window) -> dict[str, Any]:
    return {
        "root_id": scope.root_id,
        "roles": list(scope.roles),
        "plan_id": scope.plan_id,
        "start": window.start,
        "as_of": window.as_of,
        "cutoff": window.as_of - timedelta(days=window.silence_days),
        "as_of_day": window.as_of_day,
    }


def _kept(mark: str | None) -> tuple[Any, dict[str, tuple[Any, Any]]]:
    """When the assignment row knows the state at AS_OF, and where: (condition, then) for
    each of status, percent, at, done_since; None where only the history knows."""
    a = Assignment
    after_latest = or_(col(a.history_at).is_(None), col(a.history_at) < AS_OF)
    latest = {
        "status": col(a.history_status),
        "percent": col(a.history_percent),
        "at": col(a.history_at),
        "done_since": col(a.done_since),
    }
    if mark is None:
        return after_latest, {name: (value, None) for name, value in latest.items()}
    at_mark = col(getattr(a, f"{mark}_mark")) == AS_OF
    return or_(after_latest, at_mark), {
        name: (value, col(getattr(a, f"{mark}_{name}"))) for name, value in latest.items()
    }


def _historic_state(mark: str | None, aid: Any) -> dict[str, Any]:
    """Status, percent, last update time and done-since at AS_OF: from the row's kept state
    where it holds that moment, else from the history (probes, evaluated only then)."""
    a = Assignment
    kept, sources = _kept(mark)
    after_latest = or_(col(a.history_at).is_(None), col(a.history_at) < AS_OF)
    probes = {
        "status": _latest(col(ProgressUpdate.status), AS_OF, aid),
        # An update without a percent keeps the one reported before.
        "percent": _latest(col(ProgressUpdate.percent), AS_OF, aid, known=True),
        "at": _latest(col(ProgressUpdate.created_at), AS_OF, aid),
        "done_since": null(),  # not known: "done in the period" asks the history
    }
    out: dict[str, Any] = {}
    for name, (latest, at_mark) in sources.items():
        whens: list[Any] = [(after_latest, latest)]
        if at_mark is not None:
            whens.append((kept, at_mark))
        out[name] = case(*whens, else_=probes[name])
    out["status"] = func.coalesce(out["status"], AssignmentStatus.NOT_STARTED)
    return out


def scoped_rows(
    dialect: str, *, historic: bool, children: bool, by_plan: bool, mark: str | None = None
) -> Any:
    """One row per assignment with its status as of ``as_of``, labelled with the root's
    child whose subtree holds it (``children``) or with the root (assignments carried by the
    root unit itself). ``done_since``: since when the history says "done" (None: unknown)."""
    aid = col(Assignment.id)
    if historic:
        state = _historic_state(mark, aid)
        status: Any = state["status"]
        percent: Any = state["percent"]
        last_at: Any = state["at"]
        done_at: Any = last_at
        done_since: Any = state["done_since"]
        note: Any = null()  # the blocked list asks the history for the reason (``_reason``)
    else:
        status, percent = col(Assignment.status), col(Assignment.percent)
        last_at = col(Assignment.last_update_at)
        # done_at is when it was last reported done; older rows may lack it.
        done_at = func.coalesce(col(Assignment.done_at), last_at)
        done_since = case(
            (col(Assignment.history_status) == AssignmentStatus.DONE, col(Assignment.done_since)),
            else_=null(),
        )
        note = col(Assignment.note)
    child = aliased(Unit, name="child")
    unit = aliased(Unit, name="member")
    child_id: Any = col(child.id) if children else ROOT_ID
    query: Select[Any] = select(
        child_id.label("child_id"),
        aid.label("aid"),
        col(Assignment.unit_id).label("unit_id"),
        col(Assignment.task_id).label("task_id"),
        col(Assignment.role).label("role"),
        col(Assignment.created_at).label("created_at"),
        status.label("st"),
        percent.label("pct"),
        last_at.label("lu"),
        done_at.label("done_at"),
        done_since.label("done_since"),
        note.label("note"),
        col(Task.deadline_kind).label("deadline_kind"),
        col(Task.due_date).label("due_date"),
    )
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
        col(Assignment.role).in_(ROLES)
    )
    if by_plan:
        query = query.where(col(Task.plan_id) == PLAN_ID)
    # A plan retired before the moment no longer counts; earlier periods still see it.
    query = query.where(
        col(Task.plan_id).not_in(select(col(Plan.id)).where(col(Plan.retired_at) < AS_OF))
    )
    return query.subquery("scoped")


def _done_between(assignment_id: Any) -> Any:
    """A "done" update of the assignment in [START, AS_OF)."""
    pu = aliased(ProgressUpdate, name="period_done")
    return (
        select(col(pu.id))
        .where(
            col(pu.assignment_id) == assignment_id,
            col(pu.status) == AssignmentStatus.DONE,
            col(pu.created_at) >= START,
            col(pu.created_at) < AS_OF,
        )
        .exists()
    )


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


GROUP_KEYS = ("child_id", "task_id", "role")


@cache
def _grouped_statement(
    dialect: str,
    historic: bool,
    children: bool,
    by_plan: bool,
    by: tuple[str, ...],
    mark: str | None = None,
) -> Any:
    c = scoped_rows(dialect, historic=historic, children=children, by_plan=by_plan, mark=mark).c
    # A recurring task is reported per period: done for this window when it is done at its
    # end (this report period's answer) or was reported done within it (the task has been
    # opened again for the next period since).
    recurring = c.deadline_kind == "recurring"
    done_in_window = _done_between(c.aid)
    st = case(
        (and_(recurring, c.st != AssignmentStatus.DONE, done_in_window), AssignmentStatus.DONE),
        else_=c.st,
    )
    not_done = st != AssignmentStatus.DONE
    # Not done at the start: the history has said "done" only since then (kept on the row);
    # the history is probed only where that is not known.
    at_start = func.coalesce(_latest(col(ProgressUpdate.status), START, c.aid), "")
    not_done_at_start = case(
        (c.done_since.is_not(None), c.done_since >= START),
        else_=at_start != AssignmentStatus.DONE,
    )
    newly_done = case(
        (recurring, done_in_window),
        (and_(c.st == AssignmentStatus.DONE, c.done_at >= START), not_done_at_start),
        else_=false(),
    )
    # Each row's status and flags are computed once, in a subquery SQLite may not flatten
    # (OFFSET 0: it streams it as a co-routine instead). Flattened, every reference to the
    # status in the eight sums below would evaluate its CASE again, per row.
    overdue = and_(not_done, c.deadline_kind == "date", c.due_date < AS_OF_DAY)
    silent = and_(not_done, or_(c.lu < CUTOFF, and_(c.lu.is_(None), c.created_at < CUTOFF)))
    per_row = (
        select(
            *(c[key].label(key) for key in by),
            st.label("st"),
            case((overdue, 1), else_=0).label("overdue"),
            case((silent, 1), else_=0).label("silent"),
            case((and_(st == AssignmentStatus.DONE, newly_done), 1), else_=0).label("newly"),
            case((st == AssignmentStatus.DONE, 100), else_=func.coalesce(c.pct, 0)).label("pct"),
        )
        .offset(0)
        .subquery("per_row")
    )
    r = per_row.c
    out_keys = [r[key] if key in by else null() for key in GROUP_KEYS]
    return select(
        *out_keys,
        _count(r.st == AssignmentStatus.NOT_STARTED),
        _count(r.st == AssignmentStatus.IN_PROGRESS),
        _count(r.st == AssignmentStatus.DONE),
        _count(r.st == AssignmentStatus.BLOCKED),
        func.coalesce(func.sum(r.overdue), 0),
        func.coalesce(func.sum(r.silent), 0),
        func.coalesce(func.sum(r.newly), 0),
        func.coalesce(func.sum(r.pct), 0),
    ).group_by(*(r[key] for key in by))


def grouped(
    session: Session, scope: Scope, window: Window, by: tuple[str, ...] = GROUP_KEYS
) -> list[GroupRow]:
    """Counts per ``by`` (some of child of the root, task, role; the root's own assignments
    count as a child with the root's id). Fewer keys, fewer groups: SQLite pays for every
    group's aggregates, and the caller for folding them."""
    out: list[GroupRow] = []
    values = params(scope, window)
    for children in (True, False):
        query = _grouped_statement(
            _dialect(session),
            window.historic,
            children,
            scope.plan_id is not None,
            by,
            window.mark if window.historic else None,
        )
        out.extend(GroupRow(*row) for row in session.exec(query, params=values).all())
    return out


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
        .limit(1)
        .scalar_subquery()
    )


@cache
def _blocked_statement(
    dialect: str, historic: bool, children: bool, by_plan: bool, mark: str | None = None
) -> Any:
    c = scoped_rows(dialect, historic=historic, children=children, by_plan=by_plan, mark=mark).c
    note = _reason(c.aid) if historic else c.note  # the row keeps the reason (handlers)
    return select(c.aid, c.unit_id, c.task_id, note, c.lu).where(c.st == AssignmentStatus.BLOCKED)


def blocked(session: Session, scope: Scope, window: Window) -> list[BlockedRow]:
    out: list[BlockedRow] = []
    values = params(scope, window)
    for children in (True, False):
        query = _blocked_statement(
            _dialect(session),
            window.historic,
            children,
            scope.plan_id is not None,
            window.mark if window.historic else None,
        )
        out.extend(BlockedRow(*row) for row in session.exec(query, params=values).all())
    return out


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
