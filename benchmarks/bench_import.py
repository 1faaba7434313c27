"""Import benchmark over all seed plans: parse time and peak memory per file, and the time to
store seed 000 into a fresh SQLite database for a province of 10 districts × 20 communes.

    .venv/bin/python benchmarks/bench_import.py [--repeat N] [--tiny]

``--tiny`` (one parse per file) is what CI runs, so the script cannot rot
(``tests/e2e/test_benchmarks_tiny.py``); its figures mean nothing.

Prints figures; asserts nothing (speed is not a test).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.planimport import PlanFormatError, parse_plan, store_plan  # noqa: E402
from bot.planimport.store import count_assignments  # noqa: E402
from kernel.textnorm import fold  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import Unit  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
DEPARTMENTS = [
    "Sở Nội vụ",
    "Văn phòng UBND tỉnh",
    "Sở Y tế",
    "Sở Tài nguyên và Môi trường",
    "Sở Giáo dục và Đào tạo",
    "Sở Thông tin và Truyền thông",
    "Thanh tra tỉnh",
]


def bench_parse(path: Path, repeat: int) -> None:
    times: list[float] = []
    tasks = 0
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            tasks = len(parse_plan(path).tasks)
        except PlanFormatError:
            tasks = 0
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    with contextlib.suppress(PlanFormatError):
        parse_plan(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{path.name:32} {path.stat().st_size / 1024:7.1f} KiB {tasks:4d} tasks  "
        f"median {statistics.median(times) * 1000:7.2f} ms  "
        f"peak {peak / 1024 / 1024:6.2f} MiB"
    )


def _unit(session: object, code: str, name: str, level: str, parent: Unit | None) -> Unit:
    unit = Unit(code=code, name=name, name_folded=fold(name), level=level,
                parent_id=parent.id if parent else None)  # fmt: skip
    session.add(unit)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def bench_store() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        with session_scope(engine) as session:
            province = _unit(session, "P", "Tỉnh Thử", "province", None)
            for i, name in enumerate(DEPARTMENTS):
                _unit(session, f"S{i}", name, "department", province)
            for d in range(10):
                district = _unit(session, f"H{d}", f"Huyện {d}", "district", province)
                for c in range(20):
                    _unit(session, f"X{d}-{c}", f"Xã {d}-{c}", "commune", district)
        parsed = parse_plan(SEEDS / "000_6a26aac315758a40.txt")
        start = time.perf_counter()
        with session_scope(engine) as session:
            stored = session.get(Unit, province.id)
            assert stored is not None
            plan = store_plan(session, parsed, stored)
            assignments = count_assignments(session, plan)
        elapsed = time.perf_counter() - start
        engine.dispose()
    print(f"store seed 000 (218 units): {assignments} assignments in {elapsed * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--tiny", action="store_true", help="parse each file once (CI)")
    args = parser.parse_args()
    seeds = sorted(SEEDS.glob("*.txt"))
    if not seeds:  # an empty table would look like a run
        raise SystemExit(f"no seed plans in {SEEDS}")
    for path in seeds:
        bench_parse(path, 1 if args.tiny else args.repeat)
    bench_store()


if __name__ == "__main__":
    main()
