"""Roll-up at national scale, side by side with the plain GROUP BY floor over the same rows.

Builds a temporary SQLite database (34 provinces, 3,321 communes, 30 tasks per province plan,
one assignment per commune and task, 5 progress updates per assignment), then prints the time
of a province roll-up, the national roll-up and one plain ``GROUP BY status`` over the same
assignments, each the median of several runs, and the peak Python memory of one roll-up.
Each ratio ("÷ floor3") is the median over runs of the roll-up's CPU ÷ the floor3 run just
before it (``paired``): the machine's speed drifts within a minute, and neighbours drift
together.

    .venv/bin/python benchmarks/bench_rollup.py [--runs 7] [--keep DIR] [--tiny]

``--tiny`` (2 provinces, 10 communes, 3 tasks, 1 run) takes seconds: CI runs it once so the
script cannot rot (``tests/e2e/test_benchmarks_tiny.py``); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import make_engine, upgrade
from storage.history_state import backfill
from storage.models import Unit
from storage.periods import Period, quarter_period
from storage.rollup import rollup

PROVINCES = 34
COMMUNES = 3_321
TASKS_PER_PLAN = 30
UPDATES_PER_ASSIGNMENT = 5
STATUSES = ("in_progress", "in_progress", "blocked", "in_progress", "done")
FMT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DateTime storage format (naive UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(FMT)


def build(
    engine: Engine,
    seed: int = 7,
    provinces: int = PROVINCES,
    communes: int = COMMUNES,
    tasks_per_plan: int = TASKS_PER_PLAN,
) -> None:
    rng = random.Random(seed)
    created = _stamp(datetime(2024, 1, 2, tzinfo=UTC))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "INSERT INTO unit (id, code, name, name_folded, level, parent_id, path) "
            # UnitLevel has no "country": the root carries "province" (a roll-up never reads
            # its own unit's level, only its children's).
            "VALUES (1, 'VN', 'Việt Nam', 'viet nam', 'province', NULL, '/1/')"
        )
        units, plans, tasks, assignments, updates = [], [], [], [], []
        next_unit, task_id, assignment_id = 2, 1, 1
        communes_left = communes
        for p in range(provinces):
            pid = next_unit
            next_unit += 1
            units.append((pid, f"P{p}", f"Tỉnh {p}", f"tinh {p}", "province", 1, f"/1/{pid}/"))
            plans.append((p + 1, pid, 2024, f"Kế hoạch {p}", created))
            plan_tasks = []
            for order in range(1, tasks_per_plan + 1):
                due = date(2024, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
                dim = rng.randint(1, 8)
                tasks.append(
                    (task_id, p + 1, order, f"Nhiệm vụ {order}", "date", due, dim, f"{dim}.1")
                )
                plan_tasks.append(task_id)
                task_id += 1
            count = communes_left // (provinces - p)
            communes_left -= count
            for c in range(count):
                cid = next_unit
                next_unit += 1
                path = f"/1/{pid}/{cid}/"
                units.append((cid, f"C{cid}", f"Xã {c}", f"xa {c}", "commune", pid, path))
                for tid in plan_tasks:
                    moment = datetime(2024, 1, 5, tzinfo=UTC)
                    status = "not_started"
                    for k in range(UPDATES_PER_ASSIGNMENT):
                        moment += timedelta(days=rng.randint(1, 60))
                        status = STATUSES[k] if rng.random() < 0.8 else "in_progress"
                        updates.append((assignment_id, status, 20 * k, "ghi chú", _stamp(moment)))
                    done_at = _stamp(moment) if status == "done" else None
                    assignments.append(
                        (
                            assignment_id,
                            tid,
                            cid,
                            "lead",
                            status,
                            80,
                            created,
                            _stamp(moment),
                            done_at,
                        )
                    )
                    assignment_id += 1
        cur.executemany(
            "INSERT INTO unit (id, code, name, name_folded, level, parent_id, path) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            units,
        )
        cur.executemany(
            "INSERT INTO plan (id, province_id, year, title, report_deadlines, created_at) "
            "VALUES (?, ?, ?, ?, '[]', ?)",
            plans,
        )
        cur.executemany(
            'INSERT INTO task (id, plan_id, "order", stt, text, lead_raw, coordinating_raw, '
            "deadline_raw, deadline_kind, due_date, dimension, subdimension, flags) "
            "VALUES (?, ?, ?, '', ?, '', '', '', ?, ?, ?, ?, '[]')",
            tasks,
        )
        cur.executemany(
            "INSERT INTO assignment (id, task_id, unit_id, role, status, percent, created_at, "
            "last_update_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            assignments,
        )
        cur.executemany(
            "INSERT INTO progressupdate (assignment_id, status, percent, note, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            updates,
        )
        raw.commit()
    finally:
        raw.close()
    # The rows went in around the ORM: compute the state each assignment row keeps, as the
    # migration does for an existing database.
    with engine.begin() as connection:
        backfill(connection)
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds. CPU time (SQLite runs in this process) is what to
    compare when other programs share the machine; wall time is what a user waits."""
    fn()  # warm the page cache and the statement cache
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def paired(
    fn: Callable[[], Any], floor: Callable[[], Any], runs: int
) -> tuple[float, float, float]:
    """Median wall and CPU milliseconds of ``fn`` and the median of its CPU ÷ ``floor``'s,
    the two run one after the other ``runs`` times: on a shared machine whose speed drifts
    within a minute, a ratio of two blocks measured apart moved by half (3.7–5.5× for the
    same code), a ratio of neighbours far less."""
    fn()
    floor()
    walls, cpus, ratios = [], [], []
    for _ in range(runs):
        cpu = time.process_time()
        floor()
        base = time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        ratios.append(cpus[-1] / base if base else float("nan"))  # a tiny floor: 0 ns
    return (
        statistics.median(walls) * 1000,
        statistics.median(cpus) * 1000,
        statistics.median(ratios),
    )


def peak_kib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def floor_query(session: Session, path: str, *, with_task: bool) -> Callable[[], Any]:
    """The plain aggregate over the same rows: assignments of the subtree by status (and, with
    ``with_task``, joined to their task and grouped by dimension too, as the roll-up joins)."""
    if with_task:
        sql = text(
            "SELECT t.dimension, a.status, count(*) FROM assignment a "
            "JOIN unit u ON u.id = a.unit_id JOIN task t ON t.id = a.task_id "
            "WHERE u.path >= :lo AND u.path < :hi GROUP BY t.dimension, a.status"
        )
    else:
        sql = text(
            "SELECT a.status, count(*) FROM assignment a JOIN unit u ON u.id = a.unit_id "
            "WHERE u.path >= :lo AND u.path < :hi GROUP BY a.status"
        )
    # The roll-up's LIKE 'path%', as the range SQLite serves from the path index.
    bounds = {"lo": path, "hi": path[:-1] + "0"}
    return lambda: session.execute(sql, bounds).all()


def measure(db_path: Path, size: tuple[int, int, int], runs: int) -> None:
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    with Session(engine) as session:  # a kept database is reused as it is
        empty = session.execute(text("SELECT count(*) FROM unit")).scalar_one() == 0
    if empty:
        started = time.perf_counter()
        build(engine, provinces=size[0], communes=size[1], tasks_per_plan=size[2])
        print(f"built {db_path} in {time.perf_counter() - started:.1f} s")
    now = datetime(2024, 8, 15, 3, 0, tzinfo=UTC)
    running: Period = quarter_period(2024, 3)  # statuses from the assignment rows
    past: Period = quarter_period(2024, 2)  # statuses from the update history
    with Session(engine) as session:
        counts = session.execute(
            text("SELECT (SELECT count(*) FROM assignment), (SELECT count(*) FROM progressupdate)")
        ).one()
        print(f"assignments {counts[0]:,}  updates {counts[1]:,}")
        nation = session.get(Unit, 1)
        province = session.get(Unit, 2)
        assert nation is not None and province is not None

        def run(
            unit: Unit, period: Period, compare: bool, matrix: bool = False
        ) -> Callable[[], Any]:
            return lambda: rollup(
                session, unit, period, now, silence_days=21, compare=compare, with_matrix=matrix
            )

        for name, unit in (("province", province), ("nation", nation)):
            rows = session.execute(
                text(
                    "SELECT count(*) FROM assignment a JOIN unit u ON u.id = a.unit_id "
                    "WHERE u.path >= :lo AND u.path < :hi"
                ),
                {"lo": unit.path, "hi": unit.path[:-1] + "0"},
            ).scalar_one()
            print(f"\n{name} ({unit.name}): {rows:,} assignments")
            print(f"  {'':<44}{'wall ms':>9}{'cpu ms':>9}{'÷ floor3':>10}")
            floor = timed(floor_query(session, unit.path, with_task=True), runs)
            lines = [
                ("floor2: a⋈u GROUP BY status", floor_query(session, unit.path, with_task=False)),
                ("floor3: a⋈u⋈t GROUP BY dimension, status", None),
                ("roll-up, running quarter", run(unit, running, False)),
                ("roll-up, running quarter + previous quarter", run(unit, running, True)),
                ("roll-up, running quarter + task × unit matrix", run(unit, running, False, True)),
                ("roll-up, past quarter (update history)", run(unit, past, False)),
            ]
            floor3 = floor_query(session, unit.path, with_task=True)
            for label, fn in lines:
                wall, cpu, ratio = (*floor, 1.0) if fn is None else paired(fn, floor3, runs)
                print(f"  {label:<44}{wall:>9.1f}{cpu:>9.1f}{ratio:>10.2f}")
            peak = peak_kib(run(unit, running, False))
            print(f"  peak Python memory of one roll-up: {peak:,.0f} KiB")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build the database in this folder")
    parser.add_argument("--tiny", action="store_true", help="a few rows, one run (CI)")
    args = parser.parse_args()
    size = (PROVINCES, COMMUNES, TASKS_PER_PLAN)
    if args.tiny:
        size, args.runs = (2, 10, 3), 1
    with tempfile.TemporaryDirectory(prefix="papi-bench-") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        measure(folder / "bench.db", size, args.runs)


if __name__ == "__main__":
    main()
