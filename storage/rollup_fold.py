"""Folding a roll-up's grouped rows into its tables: totals, roles, dimensions, children (with
their ranking) and tasks, in plain Python over at most a few thousand rows.

The rows come from ``rollup_pass.grouped``; the units and tasks they name are plain tuples
read by ``storage.rollup`` (no ORM object per child or task: a province has 100+ communes,
and building, then sorting by, ORM attributes cost more than its whole GROUP BY floor).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from operator import add
from typing import NamedTuple, TypeVar

from storage.models import Unit
from storage.periods import Period
from storage.rollup_model import (
    UNCLASSIFIED,
    Counts,
    DimensionRow,
    Previous,
    Scores,
    TaskRow,
    UnitRow,
    code_key,
)
from storage.rollup_sql import GroupRow
from storage.taxonomy import taxonomy_rows

K = TypeVar("K")


class UnitInfo(NamedTuple):
    """The unit columns a roll-up shows of a child (and of its root)."""

    id: int
    code: str
    name: str
    level: str
    name_folded: str

    @classmethod
    def of(cls, unit: Unit) -> UnitInfo:
        assert unit.id is not None
        return cls(unit.id, unit.code, unit.name, unit.level, unit.name_folded)


class TaskInfo(NamedTuple):
    """The task columns a roll-up shows."""

    id: int
    plan_id: int
    order: int
    stt: str
    text: str
    dimension: int | None
    subdimension: str | None
    deadline_raw: str
    due_date: date | None


def sums(pairs: Iterable[tuple[K, Sequence[int]]]) -> dict[K, list[int]]:
    """Sum figures by key with plain integer lists: this runs over every grouped row."""
    acc: dict[K, list[int]] = {}
    for key, values in pairs:
        current = acc.get(key)
        acc[key] = list(values) if current is None else list(map(add, current, values))
    return acc


def fold(pairs: Iterable[tuple[K, Sequence[int]]]) -> dict[K, Counts]:
    return {key: Counts(*values) for key, values in sums(pairs).items()}


def total(by_key: dict[K, list[int]]) -> Counts:
    return fold(("", v) for v in by_key.values()).get("", Counts())


def dimension_key(task: TaskInfo) -> str:
    return str(task.dimension) if task.dimension is not None else UNCLASSIFIED


def by_child(rows: Iterable[GroupRow]) -> dict[int, Counts]:
    return fold((r.child_id or 0, r.values) for r in rows)


def by_task(rows: Iterable[GroupRow]) -> dict[int, list[int]]:
    return sums((r.task_id or 0, r.values) for r in rows)


def previous(
    period: Period, children: list[GroupRow], rows: list[GroupRow], tasks: dict[int, TaskInfo]
) -> Previous:
    task_sums = by_task(rows)  # fold each row once
    return Previous(
        period=period,
        totals=total(task_sums),
        dimensions=fold((dimension_key(tasks[t]), v) for t, v in task_sums.items()),
        children=by_child(children),
    )


def rank(rows: Sequence[tuple[int, Counts, str]]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) by completion desc, then overdue asc; the name only
    orders ties for display."""
    # Plain tuples sorted as they are (no key function: a province ranks 100+ communes on
    # every roll-up); the input position keeps equal names in their order, as a stable sort.
    keyed = [
        (-counts.completion, counts.overdue, name, position, unit_id)
        for position, (unit_id, counts, name) in enumerate(rows)
    ]
    keyed.sort()
    ranks: dict[int, int] = {}
    previous_key: tuple[float, int] | None = None
    current = 0
    for place, (completion, overdue, _name, _position, unit_id) in enumerate(keyed, start=1):
        if (completion, overdue) != previous_key:
            current = place
            previous_key = (completion, overdue)
        ranks[unit_id] = current
    return ranks


def children(
    root: UnitInfo, child_units: list[UnitInfo], counts_of: dict[int, Counts]
) -> tuple[UnitRow, ...]:
    """The root (when it carries assignments itself) and its children, each level ranked."""
    units = list(child_units)
    if root.id in counts_of:
        units.insert(0, root)
    by_level: dict[str, list[UnitInfo]] = defaultdict(list)
    for unit in units:
        by_level["" if unit is root else unit.level].append(unit)
    out: list[UnitRow] = []
    for level in sorted(by_level, key=lambda lv: (lv != "", lv == "department", lv)):
        members = by_level[level]
        carrying = [(u.id, counts_of[u.id], u.name_folded) for u in members if u.id in counts_of]
        ranks = rank(carrying) if level else {}
        rank_of = len(carrying) if level else 0
        empty = Counts()
        out.extend(
            UnitRow(
                u.id,
                u.code,
                u.name,
                u.level,
                counts_of.get(u.id, empty),
                ranks.get(u.id),
                rank_of,
            )
            for u in members
        )
    level_order = {lv: i for i, lv in enumerate(dict.fromkeys(r.level for r in out))}
    out.sort(
        key=lambda r: (
            r.unit_id != root.id,
            level_order[r.level],
            r.rank is None,
            r.rank or 0,
            r.name,
        )
    )
    return tuple(out)


def task_rows(tasks: dict[int, TaskInfo], task_sums: dict[int, list[int]]) -> tuple[TaskRow, ...]:
    rows = [
        TaskRow(
            task_id=t.id,
            plan_id=t.plan_id,
            order=t.order,
            stt=t.stt,
            text=t.text,
            dimension=dimension_key(t),
            deadline_raw=t.deadline_raw,
            due_date=t.due_date,
            counts=Counts(*task_sums[t.id]),
        )
        for t in tasks.values()
        if t.id in task_sums
    ]
    return tuple(sorted(rows, key=lambda r: (r.plan_id, r.order, r.task_id)))


@cache
def _maxima() -> dict[str, float | None]:
    """The PAPI maxima of the shipped taxonomy (a file: read once, as ``taxonomy_rows``)."""
    return {t.code: t.max_score for t in taxonomy_rows() if t.index_name == "PAPI"}


def dimension_rows(
    sums_by_code: dict[str, Counts], scores: Scores | None, all_codes: Iterable[str]
) -> tuple[DimensionRow, ...]:
    maxima = _maxima()
    codes = set(all_codes) | set(sums_by_code)
    return tuple(
        DimensionRow(
            code,
            sums_by_code.get(code, Counts()),
            scores.values.get(code) if scores else None,
            maxima.get(code),
        )
        for code in sorted(codes, key=code_key)
    )


TOP_CODES = tuple(str(d) for d in range(1, 9))


def dimensions(
    tasks: dict[int, TaskInfo], task_sums: dict[int, list[int]], scores: Scores | None
) -> tuple[tuple[DimensionRow, ...], tuple[DimensionRow, ...]]:
    """The rows by PAPI dimension (all eight, then unclassified) and by sub-dimension."""
    top = fold((dimension_key(tasks[t]), v) for t, v in task_sums.items())
    sub = fold(
        (code, v) for t, v in task_sums.items() if (code := tasks[t].subdimension) is not None
    )
    return dimension_rows(top, scores, TOP_CODES), dimension_rows(sub, scores, ())
