"""The roll-up counts the period and the one before it in one pass (storage/rollup_pass.py):
what it says of the previous period must be what a roll-up of that period alone says."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

import storage.rollup
from kernel.clock import VN_TZ
from storage.periods import Period, quarter_period, range_period, week_period
from storage.rollup import Rollup, rollup
from tests.reports.dataset import NOW, Dataset, build_three_level

Q3 = quarter_period(2024, 3)


def alone(session: Session, data: Dataset, period: Period) -> Rollup:
    return rollup(session, data.units["P"], period, NOW, silence_days=21, compare=False)


def same_as_alone(session: Session, data: Dataset, period: Period) -> Rollup:
    result = rollup(session, data.units["P"], period, NOW, silence_days=21)
    assert result.previous is not None
    before = alone(session, data, result.previous.period)
    assert result.previous.totals == before.totals
    assert result.previous.children == {
        row.unit_id: row.counts for row in before.children if row.counts.total
    }
    assert result.previous.dimensions == {
        row.code: row.counts for row in before.dimensions if row.counts.total
    }
    assert result.totals == alone(session, data, period).totals
    return result


@pytest.mark.parametrize("one_pass_max", [50, 0])  # one key set, or two from one CTE
@pytest.mark.parametrize(
    "period",
    [
        Q3,
        quarter_period(2024, 2),  # a past period: its previous one is older still
        week_period(datetime(2024, 7, 3).date()),
        range_period(datetime(2024, 7, 1).date(), datetime(2024, 7, 31).date()),
    ],
    ids=["running-quarter", "past-quarter", "week", "range"],
)
def test_the_previous_period_is_what_it_says_alone(
    session: Session, monkeypatch: pytest.MonkeyPatch, one_pass_max: int, period: Period
) -> None:
    monkeypatch.setattr(storage.rollup, "ONE_PASS_MAX_CHILDREN", one_pass_max)
    data = build_three_level(session)
    session.commit()
    same_as_alone(session, data, period)


def test_a_plan_retired_between_the_periods_counts_in_the_previous_only(
    session: Session, engine: Engine
) -> None:
    data = build_three_level(session)
    assert data.plan is not None
    data.plan.retired_at = datetime(2024, 7, 20, tzinfo=VN_TZ)  # within Q3, before NOW
    session.add(data.plan)
    session.commit()
    grouped: list[str] = []

    def note(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        if "GROUP BY" in statement:
            grouped.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        result = same_as_alone(session, data, Q3)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert result.totals.total == 0  # the plan no longer counts in Q3...
    assert result.previous is not None and result.previous.totals.total > 0  # ...but in Q2
    assert len(grouped) == 2 + 2  # the periods counted apart, then each alone


def test_both_periods_are_one_statement(session: Session, engine: Engine) -> None:
    data = build_three_level(session)
    session.commit()
    grouped: list[str] = []

    def note(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        if "GROUP BY" in statement:
            grouped.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        rollup(session, data.units["P"], Q3, NOW, silence_days=21)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert len(grouped) == 1
