"""The SQL roll-up against a plain Python recount of a random dataset, for running and past
periods: the same rows, counted two ways, must give the same figures."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session

import storage.rollup
from kernel.clock import VN_TZ
from storage.models import Assignment, Plan, Task, Unit
from storage.periods import Period, parse_period
from storage.rollup import Counts, rollup
from tests.reports.dataset import CREATED, add_task, add_unit, assign, update

STATUSES = ("in_progress", "done", "blocked")


def _build(
    session: Session, seed: int, now: datetime
) -> tuple[Unit, list[tuple[Assignment, Task, int, list[tuple[datetime, str, int | None]]]]]:
    rng = random.Random(seed)
    root = add_unit(session, "P", "Tỉnh Thử", "province", None)
    districts = [add_unit(session, f"D{i}", f"Huyện {i}", "district", root) for i in range(3)]
    communes = [
        (add_unit(session, f"C{i}", f"Xã {i}", "commune", rng.choice(districts))) for i in range(8)
    ]
    plan = Plan(province_id=root.id, year=2024, title="Thử")
    session.add(plan)
    session.flush()
    tasks = []
    for order in range(1, 7):
        due = date(2024, rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.7 else None
        tasks.append(
            add_task(
                session, plan, order, f"NV {order}", rng.choice([1, 3, 5, None]), None, due, ""
            )
        )
    out = []
    for commune in communes:
        district_id = commune.parent_id or 0
        for task in rng.sample(tasks, rng.randint(0, len(tasks))):
            a = assign(session, task, commune, rng.choice(["lead", "lead", "coordinating"]))
            history = []
            moment = CREATED
            for _ in range(rng.randint(0, 4)):
                moment += timedelta(days=rng.randint(1, 90), hours=rng.randint(0, 23))
                if moment >= now:  # nobody reports from the future
                    break
                status, pct = rng.choice(STATUSES), rng.choice([None, 10, 50])
                update(session, a, moment, status, pct, "ghi chú")
                history.append((moment, status, 100 if status == "done" else pct))
            out.append((a, task, district_id, history))
    return root, out


def _expected(
    rows: list[tuple[Assignment, Task, int, list[tuple[datetime, str, int | None]]]],
    period: Period,
    now: datetime,
    silence: int,
) -> tuple[Counts, dict[int, Counts]]:
    as_of = min(period.end_moment, now)
    day = as_of.astimezone(VN_TZ).date()
    cutoff = as_of - timedelta(days=silence)
    totals: dict[str, int] = {}
    by_child: dict[int, dict[str, int]] = {}
    for _a, task, child, history in rows:
        before = [h for h in history if h[0] < as_of]
        status = before[-1][1] if before else "not_started"
        at_start = [h for h in history if h[0] < period.start_moment]
        start_status = at_start[-1][1] if at_start else ""
        last = before[-1][0] if before else None
        # A recurring task is done for the period when reported done within it.
        in_window = any(h[1] == "done" and period.start_moment <= h[0] < as_of for h in history)
        recurring = task.deadline_kind == "recurring"
        if recurring and in_window:
            status = "done"
        pct = (
            100
            if status == "done"
            else next((h[2] for h in reversed(before) if h[2] is not None), 0)
        )
        figures = {
            status: 1,
            "overdue": int(status != "done" and task.due_date is not None and task.due_date < day),
            "silent": int(status != "done" and (last or CREATED) < cutoff),
            "done_in_period": int(
                in_window if recurring else status == "done" and start_status != "done"
            ),
            "percent_sum": pct,
        }
        for target in (totals, by_child.setdefault(child, {})):
            for key, value in figures.items():
                target[key] = target.get(key, 0) + value
    return Counts(**totals), {k: Counts(**v) for k, v in by_child.items()}


@pytest.mark.parametrize("one_pass_max", [0, 50])  # two narrow passes, or one by (child, task)
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("period_text", "now"),
    [
        ("2024-Q3", datetime(2024, 8, 20, 9, tzinfo=VN_TZ)),  # running: the assignment rows
        ("2024-Q3", datetime(2025, 1, 5, 9, tzinfo=VN_TZ)),  # past: the update history
        ("2024-H1", datetime(2025, 1, 5, 9, tzinfo=VN_TZ)),
        ("2024-06-10..2024-09-15", datetime(2025, 1, 5, 9, tzinfo=VN_TZ)),
    ],
)
def test_sql_and_python_agree(
    session: Session,
    seed: int,
    period_text: str,
    now: datetime,
    one_pass_max: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage.rollup, "ONE_PASS_MAX_CHILDREN", one_pass_max)
    root, rows = _build(session, seed, now)
    period = parse_period(period_text, now.date())
    result = rollup(session, root, period, now, silence_days=30)
    totals, by_child = _expected(rows, period, now, 30)
    assert result.totals == totals
    assert {u.unit_id: u.counts for u in result.children if u.counts.total} == by_child
    assert sum((t.counts for t in result.tasks), Counts()) == totals
    assert sum((d.counts for d in result.dimensions), Counts()) == totals
    assert sum(result.roles.values(), Counts()) == totals
    full = rollup(session, root, period, now, silence_days=30, with_matrix=True)
    assert (full.totals, full.roles, full.children, full.tasks) == (
        result.totals,
        result.roles,
        result.children,
        result.tasks,
    )
    assert sum(full.matrix.values(), Counts()) == totals
