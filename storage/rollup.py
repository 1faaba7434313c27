"""The one roll-up: what the digest, the bot's answers, the XLSX, the DOCX and the chart show.

``rollup(session, unit, period, now, silence_days=...)`` gives, for the unit's subtree and the
period: counts by status, completion %, overdue, silent, blocked with notes; the same by PAPI
dimension and sub-dimension, by child unit (with a ranking) and by task; and the change since
the previous period. Both periods are counted in one pass over the subtree's rows, grouped in
SQL (``rollup_pass``, ``rollup_sql``), and folded here over at most a few thousand grouped
rows; each assignment's past state is read from what its row keeps of its history
(``history_state``).

Counting rules (also in docs/reports.md):
- an assignment is one task carried by one unit; lead and coordinating assignments are both
  counted unless ``roles`` says otherwise, and ``Rollup.roles`` gives each role's counts;
- the status is the one at ``as_of`` = the end of the period, or now if the period is running;
- completion % = done / all assignments; overdue = dated task, due before ``as_of``, not done;
  silent = not done and no update for ``silence_days`` (counted from creation if never
  updated); done in period = done at ``as_of`` and not done at the start of the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from kernel.dates import today_local
from storage import rollup_fold, rollup_pass, rollup_sql
from storage.history_state import MARK_KINDS
from storage.listbind import any_of
from storage.models import ASSIGNMENT_ROLES, Plan, Score, Task, Unit
from storage.periods import Period, previous_period
from storage.prepared import Prepared
from storage.rollup_fold import TaskInfo, UnitInfo, rank
from storage.rollup_model import (
    UNCLASSIFIED,
    BlockedItem,
    Counts,
    DimensionRow,
    Previous,
    Rollup,
    Scores,
    TaskRow,
    UnitRow,
)
from storage.rollup_sql import GROUP_KEYS, GroupRow, Scope, Window, reader
from storage.types import read_plain

__all__ = [
    "UNCLASSIFIED",
    "BlockedItem",
    "Counts",
    "DimensionRow",
    "Previous",
    "Rollup",
    "RollupError",
    "Scores",
    "TaskRow",
    "UnitRow",
    "ancestor_at_level",
    "latest_scores",
    "rank",
    "rollup",
    "unit_ancestry",
    "unit_rank",
]

ONE_PASS_MAX_CHILDREN = 50


class RollupError(ValueError):
    """The unit cannot be rolled up (no materialised path)."""


def _window(period: Period, now: datetime, silence_days: int) -> Window:
    as_of = min(period.end_moment, now)
    return Window(
        start=period.start_moment,
        as_of=as_of,
        as_of_day=today_local(as_of),
        silence_days=silence_days,
        historic=period.end_moment < now,
        # A period ends where the next one of its kind starts: a moment the rows keep.
        mark=period.kind if period.kind in MARK_KINDS else None,
    )


# The fixed reads of a roll-up, each built once: a province's whole GROUP BY floor is about a
# millisecond, so building a statement per call (and its cache key) is a cost it shows.
@cache
def _statements() -> dict[str, Prepared]:
    retired = col(Plan.retired_at)
    unit_info = select(*(read_plain(col(getattr(Unit, n))) for n in UnitInfo._fields))
    task_info = select(*(col(getattr(Task, name)) for name in TaskInfo._fields))
    # The children and the tasks are built as the named tuples the fold takes (``row``).
    return {
        "retired": Prepared(select(retired).where(retired < bindparam("later"))),
        "children": Prepared(
            unit_info.where(col(Unit.parent_id) == bindparam("parent_id")), row=UnitInfo
        ),
        "tasks": Prepared(task_info.where(any_of(col(Task.id), "ids")), row=TaskInfo),
        "units": Prepared(
            select(col(Unit.id), col(Unit.name), col(Unit.path)).where(any_of(col(Unit.id), "ids"))
        ),
        "task_texts": Prepared(
            select(col(Task.id), col(Task.order), col(Task.text)).where(any_of(col(Task.id), "ids"))
        ),
        "scores": Prepared(
            select(Score.unit_id, Score.year, Score.code, Score.score).where(
                any_of(col(Score.unit_id), "ids"),
                Score.index_name == bindparam("index_name"),
            )
        ),
    }


def _retired_before(session: Session, moment: datetime) -> list[datetime]:
    """When the plans retired before ``moment`` were (usually none)."""
    found = _statements()["retired"].rows(reader(session), {"later": moment})
    return [retired for (retired,) in found]


def _child_units(session: Session, unit_id: int) -> list[UnitInfo]:
    return _statements()["children"].rows(reader(session), {"parent_id": unit_id})


def _load_tasks(session: Session, rows: Sequence[GroupRow]) -> dict[int, TaskInfo]:
    ids = sorted({row.task_id for row in rows if row.task_id is not None})
    if not ids:
        return {}
    found: list[TaskInfo] = _statements()["tasks"].rows(reader(session), {"ids": ids})
    return {row.id: row for row in found}


def _key_sets(one_set: bool) -> list[tuple[str, ...]]:
    # Groups ≈ children × tasks: with few children (the nation's provinces, a province's
    # districts) one key set (child, task, role) is cheapest and gives the matrix for free;
    # with many (a province's 100+ communes) two narrower ones are. The role goes with the
    # task, the smaller set: a province's 30 tasks × 2 roles, not 97 communes × 2, so the
    # children and the roles fold fewer rows (the children one row each).
    return [GROUP_KEYS] if one_set else [("child_id",), ("task_id", "role")]


def rollup(
    session: Session,
    unit: Unit,
    period: Period,
    now: datetime,
    *,
    silence_days: int,
    roles: Sequence[str] = ASSIGNMENT_ROLES,
    plan_id: int | None = None,
    compare: bool = True,
    with_matrix: bool = False,
) -> Rollup:
    """The roll-up of ``unit``'s subtree over ``period`` as seen at ``now`` (aware).

    ``compare``: also count the previous period. ``with_matrix``: always fill ``matrix``
    (task × child unit, for the XLSX; filled anyway when the unit has few children), which
    costs more when the unit has many children."""
    if unit.id is None or not unit.path:
        raise RollupError(f"unit {unit.code!r} has no materialised path")
    window = _window(period, now, silence_days)
    retired = _retired_before(session, window.as_of)
    scope = Scope(unit.id, unit.path, tuple(roles), plan_id, retired=bool(retired))
    child_units = _child_units(session, unit.id)
    one_set = with_matrix or len(child_units) <= ONE_PASS_MAX_CHILDREN
    sets = _key_sets(one_set)
    before = previous_period(period)
    earlier = _window(before, now, silence_days)
    # Both periods in one pass over the rows, unless a plan retired between their ends
    # counts in one and not in the other.
    together = compare and not any(moment >= earlier.as_of for moment in retired)
    found = rollup_pass.grouped(session, scope, [window, earlier] if together else [window], sets)
    if compare and not together:
        before_earlier = any(moment < earlier.as_of for moment in retired)
        apart = rollup_pass.grouped(
            session, replace(scope, retired=before_earlier), [earlier], sets
        )
        for rows, apart_rows in zip(found, apart, strict=True):
            rows.append(apart_rows[0])
    child_rows, task_rows = found[0][0], found[-1][0]
    previous_children, previous_tasks = (found[0][1], found[-1][1]) if compare else ([], [])
    tasks = _load_tasks(session, [*task_rows, *previous_tasks])
    task_sums = rollup_fold.by_task(task_rows)
    scores = latest_scores(session, unit)
    dimensions, subdimensions = rollup_fold.dimensions(tasks, task_sums, scores)
    cells = child_rows if one_set else []
    return Rollup(
        unit=unit,
        period=period,
        as_of=window.as_of,
        silence_days=silence_days,
        totals=rollup_fold.total(task_sums),
        roles=rollup_fold.fold((r.role or "", r.values) for r in task_rows),
        dimensions=dimensions,
        subdimensions=subdimensions,
        children=rollup_fold.children(
            UnitInfo.of(unit), child_units, rollup_fold.by_child(child_rows)
        ),
        tasks=rollup_fold.task_rows(tasks, task_sums),
        matrix=rollup_fold.fold(((r.task_id or 0, r.child_id or 0), r.values) for r in cells),
        blocked=_blocked(session, scope, window),
        previous=(
            rollup_fold.previous(before, previous_children, previous_tasks, tasks)
            if compare
            else None
        ),
        scores=scores,
    )


def unit_ancestry(unit: Unit) -> list[int]:
    """Unit ids from the top of the tree down to ``unit``, read from its path."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def latest_scores(session: Session, unit: Unit, index_name: str = "PAPI") -> Scores | None:
    """The latest published scores of the unit or its nearest ancestor that has any."""
    ancestry = unit_ancestry(unit) or [unit.id or 0]
    # One query for the whole ancestry: a roll-up runs it every time.
    params = {"ids": ancestry, "index_name": index_name}
    rows = _statements()["scores"].rows(reader(session), params)
    for unit_id in reversed(ancestry):
        own = [row for row in rows if row[0] == unit_id]
        if own:
            year = max(row[1] for row in own)
            return Scores(unit_id, year, {code: score for _u, y, code, score in own if y == year})
    return None


def _blocked(session: Session, scope: Scope, window: Window) -> tuple[BlockedItem, ...]:
    rows = rollup_sql.blocked(session, scope, window)
    if not rows:
        return ()
    connection = reader(session)
    units = {
        unit_id: (name, path)
        for unit_id, name, path in _statements()["units"].rows(
            connection, {"ids": sorted({r.unit_id for r in rows})}
        )
    }
    tasks = {
        task_id: (order, text)
        for task_id, order, text in _statements()["task_texts"].rows(
            connection, {"ids": sorted({r.task_id for r in rows})}
        )
    }
    items = [
        BlockedItem(
            r.assignment_id,
            r.unit_id,
            units[r.unit_id][0],
            r.task_id,
            tasks[r.task_id][0],
            tasks[r.task_id][1],
            r.note,
            r.since,
        )
        for r in rows
    ]
    return tuple(sorted(items, key=lambda i: (units[i.unit_id][1], i.task_order)))


def ancestor_at_level(session: Session, unit: Unit, level: str) -> Unit | None:
    """The nearest unit of ``level`` on the path from the top of the tree to ``unit``."""
    ids = unit_ancestry(unit)
    if not ids:
        return unit if unit.level == level else None
    found = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(ids)))}
    for unit_id in reversed(ids):
        candidate = found.get(unit_id)
        if candidate is not None and candidate.level == level:
            return candidate
    return None


def unit_rank(session: Session, unit: Unit, within: Unit, now: datetime) -> tuple[int, int] | None:
    """(rank, out of) of ``unit`` among the units of its level under ``within`` that carry
    assignments, by current completion; None when ``unit`` carries none."""
    if not within.path:
        raise RollupError(f"unit {within.code!r} has no materialised path")
    rows = rollup_sql.unit_completion(session, within.path, unit.level, today_local(now))
    ranks = rank(
        [
            (unit_id, Counts(done=done, not_started=total - done, overdue=overdue), name)
            for unit_id, name, total, done, overdue in rows
        ]
    )
    if unit.id not in ranks:
        return None
    return ranks[unit.id], len(ranks)
