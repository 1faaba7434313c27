"""10,000 reminders from the sweep to a fake Bot API server, through the outbox worker.

The fake server enforces a global limit L messages/s and 1 message/s per chat (answering 429
past them, as Telegram does) and runs in its own process; the worker is configured with the
same limits. Prints the time
the sweep took to plan and write the reminders, the achieved send rate as a fraction of L
(goal >= 0.95), the 429s received (goal 0) and peak memory.

    .venv/bin/python benchmarks/bench_reminders.py [--limit 30] [--officials 2000] [--per 5]
        [--tiny]

``--tiny`` (20 officials × 2 reminders, L = 100) is what CI runs, so the script cannot rot
(``tests/e2e/test_benchmarks_tiny.py``); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

# The fake server lives in tests/; run from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.telegram import TelegramChannel, make_bot
from bot.config import Settings, TelegramConfig
from bot.outbox import OutboxWorker
from bot.scheduler.sweep import sweep
from kernel.clock import VN_TZ, FixedClock, SystemClock
from storage.db import make_engine, upgrade
from storage.models import (
    Assignment,
    AssignmentOfficial,
    ChannelIdentity,
    Official,
    Plan,
    Task,
    Unit,
)
from tests.fakes.fake_telegram import FakeTelegram

TOKEN = "123456:BENCH-reminders-token"
DUE = date(2026, 8, 14)
SWEEP_AT = (2026, 8, 7, 8, 0)  # 7 days before DUE: one "due soon" reminder per assignment


def build(engine: Engine, officials: int, per_official: int) -> None:
    start = datetime(2026, 7, 1, 9, tzinfo=VN_TZ)
    with Session(engine) as session:
        province = Unit(code="P", name="Tỉnh", name_folded="tinh", level="province")
        session.add(province)
        session.flush()
        province.path = f"/{province.id}/"
        plan = Plan(year=2026, title="KH", province_id=province.id)
        session.add(plan)
        session.flush()
        tasks = [
            Task(
                plan_id=plan.id or 0,
                order=n + 1,
                text=f"Nhiệm vụ số {n + 1}",
                deadline_kind="date",
                due_date=DUE,
                deadline_raw="14/8/2026",
            )
            for n in range(per_official)
        ]
        session.add_all(tasks)
        session.flush()
        for n in range(officials):
            official = Official(
                name=f"CB {n}", phone=f"+8490{n:07d}", unit_id=_unit(session, province, n)
            )
            session.add(official)
            session.flush()
            session.add(
                ChannelIdentity(
                    official_id=official.id or 0,
                    channel="telegram",
                    external_user_id=str(n),
                    chat_id=str(500000 + n),
                )
            )
            for task in tasks:
                # one unit per (task, unit) pair: give each official their own commune row
                assignment = Assignment(
                    task_id=task.id or 0, unit_id=_unit(session, province, n), created_at=start
                )
                session.add(assignment)
                session.flush()
                session.add(
                    AssignmentOfficial(
                        assignment_id=assignment.id or 0, official_id=official.id or 0
                    )
                )
        session.commit()


_units: dict[int, int] = {}


def _unit(session: Session, province: Unit, n: int) -> int:
    """Assignments are unique per (task, unit): one commune per official."""
    if n not in _units:
        unit = Unit(
            code=f"C{n}",
            name=f"Xã {n}",
            name_folded=f"xa {n}",
            level="commune",
            parent_id=province.id,
        )
        session.add(unit)
        session.flush()
        unit.path = f"{province.path}{unit.id}/"
        _units[n] = unit.id or 0
    return _units[n]


def _serve(conn: Connection, limit: float) -> None:
    """Child process: the fake server, so it does not share the worker's CPU and event loop
    (Telegram is another machine). Sends its port, then on "stop" the send times and 429s."""

    async def serve() -> None:
        fake = FakeTelegram(TOKEN)
        await fake.start()
        fake.limit(global_per_second=limit, per_chat_per_second=1, strict_per_chat=True)
        conn.send(fake.port)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        conn.send(([m.at for m in fake.sent], fake.too_many_requests))
        await fake.stop()

    asyncio.run(serve())


async def _wait_sent(base_url: str, expected: int, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            state = (await client.get(f"{base_url}/_test/state")).json()
            if state["sent"] >= expected:
                return
            await asyncio.sleep(0.25)
    raise TimeoutError(f"fewer than {expected} messages arrived in {wait_seconds:.0f} s")


async def deliver(
    engine: Engine, settings: Settings, limit: float, expected: int, chats: int
) -> None:
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(child, limit), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{parent.recv()}"
    bot = make_bot(TOKEN, base_url)
    worker = OutboxWorker(engine, {"telegram": TelegramChannel(bot)}, settings, SystemClock())
    began = time.perf_counter()
    task = asyncio.create_task(worker.run())
    try:
        await _wait_sent(base_url, expected, expected / limit * 3 + 60)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bot.session.close()
        parent.send("stop")
        stamps, too_many = parent.recv()
        server.join(10)
    wall = time.perf_counter() - began
    stamps = sorted(stamps)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    rate = (len(stamps) - 1) / span if span else 0.0
    print(f"messages delivered      {len(stamps):>10,}")
    print(f"worker wall time        {wall:>10.1f} s")
    print(f"achieved rate           {rate:>10.1f} msg/s  = {rate / limit:.3f} of L={limit:g}")
    ceiling = min(limit, chats * 1.0)  # few chats: their 1 message/s each binds before L
    if ceiling < limit:
        print(f"  of min(L, chats × 1/s) {rate / ceiling:>10.3f} (ceiling {ceiling:g} msg/s)")
    print(f"429 answers received    {too_many:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=30.0, help="global limit L, msg/s")
    parser.add_argument("--officials", type=int, default=2000)
    parser.add_argument("--per", type=int, default=5, help="reminders per official")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations (slow)"
    )
    parser.add_argument("--tiny", action="store_true", help="40 reminders at L = 100 (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.officials, args.per, args.limit = 20, 2, 100.0
    logging.basicConfig(level=logging.WARNING)
    expected = args.officials * args.per
    settings = Settings(
        telegram=TelegramConfig(global_rate_per_second=args.limit, per_chat_rate_per_second=1)
    )
    if args.tracemalloc:
        tracemalloc.start()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        build(engine, args.officials, args.per)
        began = time.perf_counter()
        result = sweep(
            engine, settings, FixedClock(datetime(*SWEEP_AT, tzinfo=VN_TZ)), digests=False
        )
        planned = time.perf_counter() - began
        print(f"reminders written       {result.reminders.messages:>10,}")
        print(f"sweep (plan + write)    {planned:>10.2f} s")
        began = time.perf_counter()
        again = sweep(
            engine, settings, FixedClock(datetime(*SWEEP_AT, tzinfo=VN_TZ)), digests=False
        )
        print(
            f"idle sweep (all keyed)  {time.perf_counter() - began:>10.2f} s, {again.messages} new"
        )
        assert result.reminders.messages == expected, result
        asyncio.run(deliver(engine, settings, args.limit, expected, args.officials))
        engine.dispose()
    if args.tracemalloc:
        _current, peak = tracemalloc.get_traced_memory()
        print(f"peak Python memory      {peak / 2**20:>10.1f} MiB (tracemalloc)")
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS                {max_rss:>10.1f} MiB")


if __name__ == "__main__":
    main()
