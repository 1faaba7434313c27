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

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import NamedTuple, TypeVar

from sqlmodel import Session, col, select

from kernel.dates import today_local
from storage import rollup_pass, rollup_sql
from storage.history_state import MARK_KINDS
from storage.models import ASSIGNMENT_ROLES, Plan, Score, Task, Unit
from storage.periods import Period, previous_period
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
    code_key,
)
from storage.rollup_sql import GROUP_KEYS, GroupRow, Scope, Window
from storage.taxonomy import taxonomy_rows

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

K = TypeVar("K")
ONE_PASS_MAX_CHILDREN = 50


def _values(row: GroupRow) -> tuple[int, ...]:
    """A group's figures in the order of ``Counts``' fields."""
    return (
        row.not_started,
        row.in_progress,
        row.done,
        row.blocked,
        row.overdue,
        row.silent,
        row.done_in_period,
        int(row.percent_sum),
    )


def _fold(pairs: Iterable[tuple[K, Sequence[int]]]) -> dict[K, Counts]:
    return {key: Counts(*values) for key, values in _sum(pairs).items()}


def _sum(pairs: Iterable[tuple[K, Sequence[int]]]) -> dict[K, list[int]]:
    """Sum figures by key with plain integer lists: this runs over every grouped row."""
    acc: dict[K, list[int]] = {}
    for key, values in pairs:
        current = acc.get(key)
        acc[key] = (
            list(values)
            if current is None
            else [a + b for a, b in zip(current, values, strict=True)]
        )
    return acc


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


def _retired_between(session: Session, earlier: Window, window: Window) -> bool:
    """A plan retired between the two windows' ends (counted in the earlier only)."""
    retired = col(Plan.retired_at)
    query = select(col(Plan.id)).where(retired >= earlier.as_of, retired < window.as_of)
    return session.exec(query.limit(1)).first() is not None


def _dimension_key(task: TaskInfo) -> str:
    return str(task.dimension) if task.dimension is not None else UNCLASSIFIED


class TaskInfo(NamedTuple):
    """The task columns a roll-up shows (plain tuples: no ORM object per task)."""

    id: int
    plan_id: int
    order: int
    stt: str
    text: str
    dimension: int | None
    subdimension: str | None
    deadline_raw: str
    due_date: date | None


def _load_tasks(session: Session, rows: Iterable[GroupRow]) -> dict[int, TaskInfo]:
    ids = {row.task_id for row in rows if row.task_id is not None}
    if not ids:
        return {}
    columns = [col(getattr(Task, name)) for name in TaskInfo._fields]
    query = select(*columns).where(col(Task.id).in_(ids))
    return {row[0]: TaskInfo(*row) for row in session.exec(query)}


def _fold_previous(
    period: Period, children: list[GroupRow], rows: list[GroupRow], tasks: dict[int, TaskInfo]
) -> Previous:
    by_task = _sum((r.task_id or 0, _values(r)) for r in rows)  # fold each row once
    return Previous(
        period=period,
        totals=_fold(("", v) for v in by_task.values()).get("", Counts()),
        dimensions=_fold((_dimension_key(tasks[t]), v) for t, v in by_task.items()),
        children=_fold((r.child_id or 0, _values(r)) for r in children),
    )


def rank(rows: Sequence[tuple[int, Counts, str]]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) by completion desc, then overdue asc; the name only
    orders ties for display."""
    ordered = sorted(rows, key=lambda r: (-r[1].completion, r[1].overdue, r[2]))
    ranks: dict[int, int] = {}
    previous_key: tuple[float, int] | None = None
    for position, (unit_id, counts, _name) in enumerate(ordered, start=1):
        key = (counts.completion, counts.overdue)
        if key != previous_key:
            current = position
            previous_key = key
        ranks[unit_id] = current
    return ranks


def _children(
    root: Unit, child_units: list[Unit], by_child: dict[int, Counts]
) -> tuple[UnitRow, ...]:
    units = list(child_units)
    if root.id in by_child:
        units.insert(0, root)
    by_level: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_level["" if unit is root else unit.level].append(unit)
    out: list[UnitRow] = []
    for level in sorted(by_level, key=lambda lv: (lv != "", lv == "department", lv)):
        members = by_level[level]
        carrying = [
            (u.id, by_child[u.id], u.name_folded) for u in members if u.id in by_child if u.id
        ]
        ranks = rank(carrying) if level else {}
        for unit in members:
            assert unit.id is not None
            counts = by_child.get(unit.id, Counts())
            out.append(
                UnitRow(
                    unit.id,
                    unit.code,
                    unit.name,
                    unit.level,
                    counts,
                    ranks.get(unit.id),
                    len(carrying) if level else 0,
                )
            )
    level_order = {lv: i for i, lv in enumerate(dict.fromkeys(r.level for r in out))}
    return tuple(
        sorted(
            out,
            key=lambda r: (
                r.unit_id != root.id,
                level_order[r.level],
                r.rank is None,
                r.rank or 0,
                r.name,
            ),
        )
    )


def _tasks(tasks: dict[int, TaskInfo], by_task: dict[int, Counts]) -> tuple[TaskRow, ...]:
    rows = [
        TaskRow(
            task_id=t.id,
            plan_id=t.plan_id,
            order=t.order,
            stt=t.stt,
            text=t.text,
            dimension=str(t.dimension) if t.dimension is not None else UNCLASSIFIED,
            deadline_raw=t.deadline_raw,
            due_date=t.due_date,
            counts=by_task[t.id],
        )
        for t in tasks.values()
        if t.id in by_task
    ]
    return tuple(sorted(rows, key=lambda r: (r.plan_id, r.order, r.task_id)))


def unit_ancestry(unit: Unit) -> list[int]:
    """Unit ids from the top of the tree down to ``unit``, read from its path."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def latest_scores(session: Session, unit: Unit, index_name: str = "PAPI") -> Scores | None:
    """The latest published scores of the unit or its nearest ancestor that has any."""
    ancestry = unit_ancestry(unit) or [unit.id or 0]
    rows = session.exec(  # one query for the whole ancestry: a roll-up runs it every time
        select(Score.unit_id, Score.year, Score.code, Score.score).where(
            col(Score.unit_id).in_(ancestry), Score.index_name == index_name
        )
    ).all()
    for unit_id in reversed(ancestry):
        own = [row for row in rows if row[0] == unit_id]
        if own:
            year = max(row[1] for row in own)
            return Scores(unit_id, year, {code: score for _u, y, code, score in own if y == year})
    return None


def _dimension_rows(
    session: Session, sums: dict[str, Counts], scores: Scores | None, all_codes: Iterable[str]
) -> tuple[DimensionRow, ...]:
    maxima = {t.code: t.max_score for t in taxonomy_rows() if t.index_name == "PAPI"}
    codes = set(all_codes) | set(sums)
    return tuple(
        DimensionRow(
            code,
            sums.get(code, Counts()),
            scores.values.get(code) if scores else None,
            maxima.get(code),
        )
        for code in sorted(codes, key=code_key)
    )


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
    scope = Scope(unit.id, unit.path, tuple(roles), plan_id)
    window = _window(period, now, silence_days)
    child_units = list(session.exec(select(Unit).where(col(Unit.parent_id) == unit.id)).all())
    # Groups ≈ children × tasks: with few children (the nation's provinces, a province's
    # districts) one key set (child, task, role) is cheapest and gives the matrix for free;
    # with many (a province's 100+ communes) two narrower ones are.
    one_set = with_matrix or len(child_units) <= ONE_PASS_MAX_CHILDREN
    sets = [GROUP_KEYS] if one_set else [("child_id", "role"), ("task_id",)]
    before = previous_period(period)
    earlier = _window(before, now, silence_days)
    # Both periods in one pass over the rows, unless a plan retired between their ends
    # counts in one and not in the other.
    together = compare and not _retired_between(session, earlier, window)
    found = rollup_pass.grouped(session, scope, [window, earlier] if together else [window], sets)
    if compare and not together:
        apart = rollup_pass.grouped(session, scope, [earlier], sets)
        for rows, alone in zip(found, apart, strict=True):
            rows.append(alone[0])
    cells = found[0][0] if one_set else []
    child_rows, task_rows = found[0][0], found[-1][0]
    previous_children, previous_tasks = (found[0][1], found[-1][1]) if compare else ([], [])
    tasks = _load_tasks(session, [*task_rows, *previous_tasks])
    matrix = _fold(((r.task_id or 0, r.child_id or 0), _values(r)) for r in cells)
    by_child = _fold((r.child_id or 0, _values(r)) for r in child_rows)
    task_sums = _sum((r.task_id or 0, _values(r)) for r in task_rows)
    by_task = {task: Counts(*values) for task, values in task_sums.items()}
    scores = latest_scores(session, unit)
    previous = _fold_previous(before, previous_children, previous_tasks, tasks) if compare else None
    top_codes = [str(d) for d in range(1, 9)]
    return Rollup(
        unit=unit,
        period=period,
        as_of=min(period.end_moment, now),
        silence_days=silence_days,
        totals=_fold(("", v) for v in task_sums.values()).get("", Counts()),
        roles=_fold((r.role or "", _values(r)) for r in child_rows),
        dimensions=_dimension_rows(
            session,
            _fold((_dimension_key(tasks[t]), v) for t, v in task_sums.items()),
            scores,
            top_codes,
        ),
        subdimensions=_dimension_rows(
            session,
            _fold(
                (sub, v) for t, v in task_sums.items() if (sub := tasks[t].subdimension) is not None
            ),
            scores,
            (),
        ),
        children=_children(unit, child_units, by_child),
        tasks=_tasks(tasks, by_task),
        matrix=matrix,
        blocked=_blocked(session, scope, period, now, silence_days),
        previous=previous,
        scores=scores,
    )


def _blocked(
    session: Session, scope: Scope, period: Period, now: datetime, silence_days: int
) -> tuple[BlockedItem, ...]:
    rows = rollup_sql.blocked(session, scope, _window(period, now, silence_days))
    if not rows:
        return ()
    units = {
        u.id: u
        for u in session.exec(select(Unit).where(col(Unit.id).in_({r.unit_id for r in rows})))
    }
    tasks = {
        t.id: t
        for t in session.exec(select(Task).where(col(Task.id).in_({r.task_id for r in rows})))
    }
    items = [
        BlockedItem(
            r.assignment_id,
            r.unit_id,
            units[r.unit_id].name,
            r.task_id,
            tasks[r.task_id].order,
            tasks[r.task_id].text,
            r.note,
            r.since,
        )
        for r in rows
    ]
    return tuple(sorted(items, key=lambda i: (units[i.unit_id].path, i.task_order)))


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
