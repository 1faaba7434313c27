"""The roll-up against figures worked out by hand (see tests/reports/dataset.py)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import Session

from kernel.clock import VN_TZ
from storage.models import Unit
from storage.periods import parse_period, quarter_period, year_period
from storage.rollup import (
    UNCLASSIFIED,
    Counts,
    RollupError,
    ancestor_at_level,
    rank,
    rollup,
    unit_rank,
)
from tests.reports.dataset import NOW, build_three_level, build_two_level

Q3 = quarter_period(2024, 3)


def test_totals_in_a_running_quarter(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["P"], Q3, NOW, silence_days=21)
    t = result.totals
    # done: C1T1, C2T2, C3T1, Sở T1 (coordinating); in progress: C1T2, C2T1, C3T3, Sở T4
    assert (t.not_started, t.in_progress, t.done, t.blocked) == (1, 4, 4, 2)
    assert t.total == 11
    assert t.completion == 36.4  # 4 / 11
    assert t.overdue == 1  # C2 T1, due 30/06, in progress
    assert t.silent == 3  # C1 T3 (20/07), C2 T1 (10/04), C2 T3 (never, created 01/05)
    assert t.done_in_period == 2  # C1 T1 on 05/07 and Sở T1 on 10/07
    assert t.percent_sum == 4 * 100 + 50 + 30 + 20 + 10
    assert t.average_percent == 46.4
    assert result.roles["lead"].total == 10 and result.roles["lead"].done == 3
    assert result.roles["coordinating"] == Counts(done=1, done_in_period=1, percent_sum=100)
    assert result.as_of == NOW


def test_by_dimension_and_subdimension(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["P"], Q3, NOW, silence_days=21)
    dims = {row.code: row for row in result.dimensions}
    assert [row.code for row in result.dimensions] == [*"12345678", UNCLASSIFIED]
    assert (dims["1"].counts.total, dims["1"].counts.done, dims["1"].counts.completion) == (
        4,
        3,
        75.0,
    )
    assert dims["1"].counts.overdue == 1
    assert (dims["3"].counts.total, dims["3"].counts.done, dims["3"].counts.blocked) == (3, 1, 1)
    assert dims["3"].counts.completion == 33.3
    assert (dims["8"].counts.total, dims["8"].counts.done, dims["8"].counts.not_started) == (
        3,
        0,
        1,
    )
    assert dims["2"].counts == Counts()
    assert dims[UNCLASSIFIED].counts.in_progress == 1
    assert dims["1"].score == 4.86 and dims["1"].max_score == 10
    subs = {row.code: row.counts.total for row in result.subdimensions}
    assert subs == {"1.1": 4, "3.2": 3, "8.1": 3}
    # weakest published score first: 8 (2.58), 3 (4.25), 1 (4.86), then the unscored
    assert [row.code for row in result.focus_dimensions()] == ["8", "3", "1", UNCLASSIFIED]


def test_children_ranking_and_empty_district(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["P"], Q3, NOW, silence_days=21)
    rows = [(r.name, r.counts.total, r.counts.done, r.rank, r.rank_of) for r in result.children]
    # D1 and D2 both 33.3 %, D2 has no overdue task so it ranks first; D3 carries nothing.
    assert rows == [
        ("Huyện Lục Nam", 3, 1, 1, 2),
        ("Huyện Yên Dũng", 6, 2, 2, 2),
        ("Huyện Sơn Động", 0, 0, None, 2),
        ("Sở Nội vụ", 2, 1, 1, 1),
    ]


def test_by_task_matrix_and_blocked(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["P"], Q3, NOW, silence_days=21, with_matrix=True)
    tasks = {r.order: r.counts for r in result.tasks}
    assert [r.order for r in result.tasks] == [1, 2, 3, 4]
    assert (tasks[1].total, tasks[1].done, tasks[1].overdue) == (4, 3, 1)
    assert (tasks[4].total, tasks[4].in_progress) == (1, 1)
    d1, t1 = data.units["D1"].id, data.tasks["T1"].id
    assert t1 is not None and d1 is not None
    assert result.matrix[(t1, d1)] == Counts(
        in_progress=1, done=1, overdue=1, silent=1, done_in_period=1, percent_sum=130
    )
    blocked = [(b.unit_name, b.task_order, b.note) for b in result.blocked]
    assert blocked == [
        ("Xã Tân An", 3, "Thiếu kinh phí"),
        ("Xã Bảo Đài", 2, "Chờ hướng dẫn của Sở"),
    ]


def test_change_since_previous_quarter(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["P"], Q3, NOW, silence_days=21)
    assert result.previous is not None
    before = result.previous.totals
    assert result.previous.period.label == "2024-Q2"
    # end of Q2: done C2T2, C3T1; in progress C1T1, C1T2, C2T1; the rest not started
    assert (before.done, before.in_progress, before.not_started, before.blocked) == (2, 3, 6, 0)
    assert before.done_in_period == 2
    assert before.completion == 18.2
    assert result.completion_change() == 18.2
    assert result.done_change() == 2
    d1 = data.units["D1"].id
    assert d1 is not None and result.previous.children[d1].done == 1


def test_a_past_quarter_comes_from_the_history(session: Session) -> None:
    data = build_three_level(session)
    later = datetime(2024, 11, 1, 9, 0, tzinfo=VN_TZ)
    result = rollup(session, data.units["P"], Q3, later, silence_days=21)
    t = result.totals
    assert (t.not_started, t.in_progress, t.done, t.blocked) == (1, 4, 4, 2)
    assert t.overdue == 4  # C2 T1, and T3 (due 30/09) in all three communes
    assert t.silent == 7  # cut-off 10/09: every assignment not done
    assert t.percent_sum == 510
    assert [b.note for b in result.blocked] == ["Thiếu kinh phí", "Chờ hướng dẫn của Sở"]


def test_a_period_with_no_updates_carries_the_state_over(session: Session) -> None:
    data = build_three_level(session)
    later = datetime(2025, 4, 15, 9, 0, tzinfo=VN_TZ)
    result = rollup(
        session, data.units["P"], parse_period("2025-Q1", later.date()), later, silence_days=21
    )
    assert result.totals.done == 4 and result.totals.done_in_period == 0
    assert result.completion_change() == 0.0


def test_before_anything_happened_all_is_not_started(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["P"], quarter_period(2024, 1), NOW, silence_days=21)
    assert result.totals == Counts(not_started=11, overdue=0, silent=0)
    assert result.blocked == ()


def test_a_unit_with_no_tasks(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["D3"], Q3, NOW, silence_days=21)
    assert result.totals == Counts() and result.totals.completion == 0.0
    assert result.children == () and result.tasks == () and result.matrix == {}
    assert all(row.counts == Counts() for row in result.dimensions)
    assert result.focus_dimensions() == []
    # scores come from the nearest ancestor that has them
    assert result.scores is not None and result.scores.values["8"] == 2.58


def test_a_commune_lists_itself(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["C2"], Q3, NOW, silence_days=21)
    assert [(r.name, r.counts.total, r.rank) for r in result.children] == [("Xã Nham Sơn", 3, None)]
    assert (result.totals.done, result.totals.overdue, result.totals.silent) == (1, 1, 2)


def test_role_filter(session: Session) -> None:
    data = build_three_level(session)
    result = rollup(session, data.units["P"], Q3, NOW, silence_days=21, roles=("lead",))
    assert result.totals.total == 10 and result.totals.done == 3
    assert set(result.roles) == {"lead"}


def test_two_level_tree(session: Session) -> None:
    data = build_two_level(session)
    now = datetime(2026, 4, 10, 9, 0, tzinfo=VN_TZ)
    result = rollup(
        session, data.units["P"], parse_period("2026-Q1", now.date()), now, silence_days=21
    )
    rows = [(r.name, r.counts.done, r.rank, r.rank_of) for r in result.children]
    assert rows == [
        ("Phường Phan Đình Phùng", 2, 1, 3),
        ("Xã Đại Phúc", 1, 2, 3),
        ("Xã Tân Cương", 0, 3, 3),
        ("Xã Phúc Xuân", 0, None, 3),
    ]
    assert result.totals.overdue == 2  # X2 T2 and X3 T2, due 31/03/2026
    assert result.scores is None
    assert unit_rank(session, data.units["X2"], data.units["P"], now) == (2, 3)
    assert unit_rank(session, data.units["X4"], data.units["P"], now) is None


def test_commune_rank_in_a_three_level_province(session: Session) -> None:
    data = build_three_level(session)
    province = ancestor_at_level(session, data.units["C2"], "province")
    assert province is not None and province.code == "24"
    # all three communes are at 33.3 %; C2 has an overdue task, so C1 and C3 share rank 1
    assert unit_rank(session, data.units["C1"], province, NOW) == (1, 3)
    assert unit_rank(session, data.units["C3"], province, NOW) == (1, 3)
    assert unit_rank(session, data.units["C2"], province, NOW) == (3, 3)


def test_a_unit_without_path_is_refused(session: Session) -> None:
    unit = Unit(id=5, code="X", name="X", name_folded="x", level="commune")
    with pytest.raises(RollupError, match="no materialised path"):
        rollup(session, unit, year_period(2024), NOW, silence_days=21)


def test_rank_is_competition_ranking() -> None:
    rows = [
        (1, Counts(done=1, not_started=1), "a"),
        (2, Counts(done=2), "b"),
        (3, Counts(done=1, not_started=1), "c"),
        (4, Counts(not_started=1), "d"),
    ]
    assert rank(rows) == {2: 1, 1: 2, 3: 2, 4: 4}
