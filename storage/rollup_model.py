"""What a roll-up is: frozen figures that the digest, bot answers, XLSX, DOCX, CSV and chart
render (``storage.rollup`` computes them).

The records a roll-up builds by the hundred (a province: a ``Counts`` and a ``UnitRow`` per
commune, a ``TaskRow`` per task) are named tuples, immutable as the frozen dataclasses
they were and four times cheaper to build (0.2 µs against 0.8–0.9 µs: a frozen dataclass
sets each field through ``object.__setattr__``), about 0.2 ms of a province's 5 ms roll-up
("Roll-up, eighth pass" in docs/performance.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from storage.models import Unit
from storage.periods import Period

UNCLASSIFIED = ""  # dimension key of tasks the plan import could not place


class Counts(NamedTuple):
    not_started: int = 0
    in_progress: int = 0
    done: int = 0
    blocked: int = 0
    overdue: int = 0
    silent: int = 0
    done_in_period: int = 0
    percent_sum: int = 0  # sum of each assignment's percent (done = 100)

    @property
    def total(self) -> int:
        return self.not_started + self.in_progress + self.done + self.blocked

    @property
    def completion(self) -> float:
        """Done as a percentage of all assignments, one decimal; 0.0 when there are none."""
        return round(100 * self.done / self.total, 1) if self.total else 0.0

    @property
    def average_percent(self) -> float:
        return round(self.percent_sum / self.total, 1) if self.total else 0.0

    def __add__(self, other: Counts) -> Counts:  # type: ignore[override]
        """Figure by figure (a tuple's ``+`` would join them)."""
        return Counts(*(mine + theirs for mine, theirs in zip(self, other, strict=True)))


@dataclass(frozen=True, slots=True)
class DimensionRow:
    code: str  # "3", "3.2"; UNCLASSIFIED for tasks without a dimension
    counts: Counts
    score: float | None = None  # the unit's latest published PAPI score, when known
    max_score: float | None = None


class UnitRow(NamedTuple):
    unit_id: int
    code: str
    name: str
    level: str
    counts: Counts
    rank: int | None = None  # among children of the same level that carry assignments
    rank_of: int = 0


class TaskRow(NamedTuple):
    task_id: int
    plan_id: int
    order: int
    stt: str
    text: str
    dimension: str  # as DimensionRow.code
    deadline_raw: str
    due_date: date | None
    counts: Counts


@dataclass(frozen=True, slots=True)
class BlockedItem:
    assignment_id: int
    unit_id: int
    unit_name: str
    task_id: int
    task_order: int
    task_text: str
    note: str | None
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Scores:
    unit_id: int
    year: int
    values: dict[str, float]  # code ("3", "3.2", "total") -> score


@dataclass(frozen=True, slots=True)
class Previous:
    period: Period
    totals: Counts
    dimensions: dict[str, Counts]
    children: dict[int, Counts]


@dataclass(frozen=True)
class Rollup:
    unit: Unit
    period: Period
    as_of: datetime
    silence_days: int
    totals: Counts
    roles: dict[str, Counts]
    dimensions: tuple[DimensionRow, ...]  # 1..8 in order, unclassified last
    subdimensions: tuple[DimensionRow, ...]
    children: tuple[UnitRow, ...]  # by level, then rank; the root itself first if it carries any
    tasks: tuple[TaskRow, ...]  # by plan, then order
    matrix: dict[tuple[int, int], Counts]  # (task id, child unit id) -> counts
    blocked: tuple[BlockedItem, ...]
    previous: Previous | None
    scores: Scores | None

    def focus_dimensions(self) -> list[DimensionRow]:
        """Dimensions that have tasks, the weakest published score first (then by code)."""
        rows = [row for row in self.dimensions if row.counts.total]
        return sorted(rows, key=lambda r: (r.score is None, r.score or 0.0, code_key(r.code)))

    def completion_change(self) -> float | None:
        """Percentage points gained since the previous period."""
        if self.previous is None:
            return None
        return round(self.totals.completion - self.previous.totals.completion, 1)

    def done_change(self) -> int | None:
        return None if self.previous is None else self.totals.done - self.previous.totals.done


def code_key(code: str) -> tuple[int, ...]:
    if code == UNCLASSIFIED:
        return (99,)
    return tuple(int(part) for part in code.split(".") if part.isdigit())
