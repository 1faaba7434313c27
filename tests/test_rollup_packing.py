"""How the roll-up reads, made cheaper in its fourth and seventh passes (docs/performance.md):
the grouped statement packs each window's eight figures into two or three integer sums
(storage/rollup_packing.py, ``PACKING``), which must give the figures of one sum per figure,
and a group too large for a packing must be counted again with the next one or unpacked,
never wrapped; the reads go through the session's connection, and the plan test is left out
of the statement when no plan was retired."""

from __future__ import annotations

import random
from contextlib import AbstractContextManager
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

import storage.rollup
import storage.rollup_packing
import storage.rollup_pass
from kernel.clock import VN_TZ
from storage.models import AssignmentStatus, Unit
from storage.periods import Period, quarter_period, range_period, week_period
from storage.rollup import Rollup, rollup
from storage.rollup_packing import unpack
from tests.reports.dataset import NOW, Dataset, build_three_level
from tests.sqltrace import statements_run

PERIODS = [
    quarter_period(2024, 3),
    quarter_period(2024, 2),
    week_period(datetime(2024, 7, 3).date()),
    range_period(datetime(2024, 7, 1).date(), datetime(2024, 7, 31).date()),
]


def _rows(count: int) -> list[tuple[int, ...]]:
    rng = random.Random(11)
    return [(*(rng.randint(0, 1) for _ in range(7)), rng.randint(0, 100)) for _ in range(count)]


def test_unpack_gives_back_the_sum_of_each_figure() -> None:
    bits = 21
    one, two = 1 << bits, 1 << 2 * bits
    rows = _rows(500)
    packed = [
        sum(r[0] + r[1] * one + r[2] * two for r in rows),
        sum(r[3] + r[4] * one + r[5] * two for r in rows),
        sum(r[6] + r[7] * one for r in rows),
    ]
    assert unpack(packed, bits) == tuple(sum(column) for column in zip(*rows, strict=True))


def test_unpack_of_the_narrow_packing_up_to_its_largest_group() -> None:
    """Six figures of ten bits in one integer, the percent sum and "done in the period" in
    a second: right up to a group of 1,023 rows, each figure at its largest."""
    bits = 10
    shift = storage.rollup_packing.PERCENT_BITS
    for rows in (_rows(500), [(1, 1, 1, 1, 1, 1, 1, 100)] * 1023):
        packed = [
            sum(sum(r[i] << i * bits for i in range(6)) for r in rows),
            sum(r[7] + (r[6] << shift) for r in rows),
        ]
        assert packed[0] < 1 << 63  # an SQLite integer
        assert unpack(packed, bits) == tuple(sum(column) for column in zip(*rows, strict=True))


def grouped_statements(engine: Engine) -> AbstractContextManager[list[str]]:
    return statements_run(engine, lambda statement: "GROUP BY" in statement)


def _rollup(session: Session, data: Dataset, period: Period) -> Rollup:
    return rollup(session, data.units["P"], period, NOW, silence_days=21)


@pytest.mark.parametrize("one_pass_max", [50, 0])
@pytest.mark.parametrize(
    ("packing", "statements"),
    [
        ((1,), 2),  # groups of two rows or more do not fit: counted again, one sum each
        ((31,), 2),  # a packed sum beyond 64 bits (SQLite: integer overflow): counted again
        ((21,), 1),  # the wide packing: one statement
        ((10,), 1),  # the narrow packing: one statement
        ((1, 10), 2),  # too narrow: counted again with the next packing
        ((10, 21), 1),  # the packings of ``PACKING``
    ],
)
def test_packed_figures_are_those_of_one_sum_each(
    session: Session,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    one_pass_max: int,
    packing: tuple[int, ...],
    statements: int,
) -> None:
    monkeypatch.setattr(storage.rollup, "ONE_PASS_MAX_CHILDREN", one_pass_max)
    data = build_three_level(session)
    session.commit()
    for period in PERIODS:
        monkeypatch.setattr(storage.rollup_pass, "_TOO_FEW", {})
        monkeypatch.setattr(storage.rollup_packing, "PACKING", ())
        plain = _rollup(session, data, period)
        monkeypatch.setattr(storage.rollup_packing, "PACKING", packing)
        with grouped_statements(engine) as seen:
            packed = _rollup(session, data, period)
        assert packed == plain
        assert plain.totals.total > 0
        if packing == (31,) and engine.dialect.name != "sqlite":
            continue  # PostgreSQL sums bigints into numeric: no overflow, nothing again
        assert len(seen) == statements


def test_a_scope_too_large_for_a_packing_starts_wider_next_time(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The packing a scope's groups needed is only a hint for its next roll-up: it saves the
    statement that would overflow again, and the figures stay those of one sum each."""
    monkeypatch.setattr(storage.rollup_pass, "_TOO_FEW", {})
    data = build_three_level(session)
    session.commit()
    monkeypatch.setattr(storage.rollup_packing, "PACKING", ())
    plain = _rollup(session, data, PERIODS[0])
    monkeypatch.setattr(storage.rollup_packing, "PACKING", (1, 10))
    with grouped_statements(engine) as first:
        assert _rollup(session, data, PERIODS[0]) == plain
    with grouped_statements(engine) as second:
        assert _rollup(session, data, PERIODS[0]) == plain
    assert (len(first), len(second)) == (2, 1)
    # The hints are bounded: when full, they are forgotten before a new one is kept.
    monkeypatch.setattr(storage.rollup_pass, "_TOO_FEW", {(-1, ()): 1})
    monkeypatch.setattr(storage.rollup_pass, "HINTS", 1)
    with grouped_statements(engine) as third:
        assert _rollup(session, data, PERIODS[0]) == plain
    assert len(third) == 2 and list(storage.rollup_pass._TOO_FEW.values()) == [1]


def test_the_rollup_sees_what_the_session_holds_unflushed(session: Session) -> None:
    """Its reads go through the session's connection (not ``Session.exec``): what the session
    holds must be written first, as autoflush would, or the figures would be stale."""
    data = build_three_level(session)
    session.commit()
    before = _rollup(session, data, PERIODS[0])
    renamed = data.units["P"].name + " (mới)"
    child = next(row for row in before.children if row.unit_id != data.units["P"].id)
    unit = session.get(Unit, child.unit_id)
    assert unit is not None
    unit.name = renamed
    assignment = next(a for a in data.assignments.values() if a.status != AssignmentStatus.DONE)
    assignment.status = AssignmentStatus.DONE
    session.add_all([unit, assignment])
    after = _rollup(session, data, PERIODS[0])
    assert after.totals.done == before.totals.done + 1
    assert renamed in {row.name for row in after.children}


def test_a_plan_retired_before_the_period_ends_is_left_out_of_it_only(session: Session) -> None:
    """The statement tests each row's plan only when some plan was retired before the
    window's end (``Scope.retired``): that test must still leave the plan out."""
    data = build_three_level(session)
    assert data.plan is not None
    session.commit()
    counted = _rollup(session, data, PERIODS[0]).totals.total
    data.plan.retired_at = datetime(2024, 6, 1, tzinfo=VN_TZ)  # in Q2
    session.add(data.plan)
    session.commit()
    running = _rollup(session, data, PERIODS[0])
    assert counted > 0 and running.totals.total == 0
    assert running.previous is not None and running.previous.totals.total == 0  # Q2 ends later
    early = rollup(session, data.units["P"], quarter_period(2024, 1), NOW, silence_days=21)
    assert early.totals.total == counted  # Q1 ended before: the plan still counts there
    assert early.previous is not None and early.previous.period == quarter_period(2023, 4)
