"""Profile status replies through ``bot.pipeline.apply_inbound`` directly (no worker thread).

Builds the demo database in a temporary folder, links the chat of one demo official (a plain
official, role "official"), then applies ``N`` status replies to one of THEIR OWN tasks
("#<assignment> 50%" alternating with "#<assignment> đang làm": the number an official types
is the assignment id) under cProfile, and prints the time and SQL statements per update and the
top functions by cumulative and own time. It checks that every reply was applied as a status
change (one ``ProgressUpdate`` per reply), so it never measures the refusal path.

    .venv/bin/python benchmarks/profile_status.py [--updates 200] [--top 25] [--tiny]

``--contend``: the same updates applied once more while a second thread of the process runs
Python meanwhile (as the event loop does in ``papi-bot run``), printing the applying thread's
own CPU alone and contended: the share of the GIL's hand-overs in the database thread's cost
(docs/performance.md, "Status replies, sixth pass").

``--process``: the same updates applied once more through the database process of
``papi-bot run`` (``bot.dbprocess``), one after another as one chat sends them, printing the
process's CPU per update beside the thread's alone: what the hand-over costs (pickles, the
socket, a wake-up per job): one at a time, and all at once (the process never waits).

``--held``: the database process's applier (``bot.applier``) on the engine, a pooled
connection per unit of work, and on one connection held for good (``storage.bind``, as the
process runs it), in alternating blocks of the same updates: each one's thread CPU per
update and the median of the blocks' ratios.

``--tiny`` (5 updates, top 5, contended, through the process and held too) is what CI runs, so
the script cannot rot (``tests/e2e/test_benchmarks_tiny.py``); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.applier import Applier, ChannelFacts
from bot.channels.registry import default_registry
from bot.config import FloodConfig, Settings
from bot.dbprocess import DatabaseProcess
from bot.demo import demo_people, ensure_demo_data
from bot.pipeline import apply_inbound
from handlers.queries import my_items
from handlers.types import Inbound
from kernel.clock import SystemClock
from storage.db import make_engine, session_scope, upgrade
from storage.models import ChannelIdentity, ProgressUpdate, Role
from storage.queue import QueuedRow
from storage.taxonomy import sync_taxonomy

COMMIT = "-- commit"


def replay(database: Path, script: list[tuple[str, Any]]) -> float:
    """CPU seconds sqlite3 alone takes for ``script`` (the floor of the SQL itself: no ORM,
    no statement building, no Python around it), on a copy of the database."""
    connection = sqlite3.connect(database)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        connection.execute(f"PRAGMA {pragma}")
    cpu = time.process_time()
    for sql, step in script:
        if sql == COMMIT:
            connection.commit()
            continue
        many, params = step
        cursor = connection.executemany(sql, params) if many else connection.execute(sql, params)
        cursor.fetchall()
    cpu = time.process_time() - cpu
    connection.close()
    return cpu


def thread_cpu(one: Callable[[int], None], keys: range) -> float:
    """The calling thread's own CPU seconds for ``one(i)`` over ``keys``."""
    cpu = time.thread_time()
    for i in keys:
        one(i)
    return time.thread_time() - cpu


def contend(work: Callable[[], float]) -> float:
    """``work()`` while another thread runs pure Python and never waits (the GIL is handed
    over at each of SQLite's calls, and taken back when the other thread yields it)."""
    stop = threading.Event()

    def spin() -> None:
        total = 0
        while not stop.is_set():
            for i in range(1000):
                total += i

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        return work()
    finally:
        stop.set()
        spinner.join()


async def through_process(
    engine: Engine, settings: Settings, inbound_for: Callable[[int], Inbound], keys: range
) -> tuple[float, float, float]:
    """CPU seconds per update of the database process while it applies ``keys``' updates,
    the first half one at a time (each awaited before the next: the process waits for every
    job), the second half all at once (it never waits); and this process's, per update."""
    facts = ChannelFacts.of(settings, default_registry(settings))
    applier = Applier(engine, settings, facts)
    database = DatabaseProcess(engine.url.render_as_string(hide_password=False), settings)

    async def apply(i: int) -> None:
        inbound = inbound_for(i)
        await database.run(applier.apply, inbound, inbound.received_at)

    try:
        for i in keys[:10]:  # started, its statements compiled
            await apply(i)
        pid = database.pid
        assert pid is not None
        half = (len(keys) - 10) // 2
        serial, parallel = keys[10 : 10 + half], keys[10 + half :]
        start, caller = process_cpu(pid), time.process_time()
        for i in serial:
            await apply(i)
        middle = process_cpu(pid)
        await asyncio.gather(*(apply(i) for i in parallel))
        end, caller = process_cpu(pid), time.process_time() - caller
        return (
            (middle - start) / len(serial),
            (end - middle) / len(parallel),
            caller / (len(serial) + len(parallel)),
        )
    finally:
        database.close(wait=True)


def held_vs_engine(
    engine: Engine, settings: Settings, inbound_for: Callable[[int], Inbound], keys: range
) -> tuple[float, float, float]:
    """The applier on ``engine`` and on one held connection, in turns over blocks of
    ``keys`` (ten pairs): the median thread CPU seconds per update of each, and the median
    of the pairs' ratios (held ÷ engine)."""
    facts = ChannelFacts.of(settings, default_registry(settings))
    with engine.connect() as held:
        appliers = [Applier(engine, settings, facts), Applier(held, settings, facts)]

        def one(applier: Applier) -> Callable[[int], None]:
            def apply(i: int) -> None:
                inbound = inbound_for(i)
                applier.apply(inbound, inbound.received_at)

            return apply

        size = max(len(keys) // 20, 1)
        blocks = [keys[n : n + size] for n in range(0, size * 20, size)]
        cpu: list[list[float]] = [[], []]
        for pair in range(10):
            order = (0, 1) if pair % 2 == 0 else (1, 0)  # neither always goes first
            for side, block in zip(order, blocks[2 * pair : 2 * pair + 2], strict=True):
                cpu[side].append(thread_cpu(one(appliers[side]), block) / max(len(block), 1))
    ratios = [h / e for e, h in zip(*cpu, strict=True) if e]
    median = statistics.median
    return median(cpu[0]), median(cpu[1]), median(ratios) if ratios else 0.0


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--tiny", action="store_true", help="5 updates, top 5 (CI)")
    parser.add_argument("--contend", action="store_true", help="also with a busy second thread")
    parser.add_argument("--process", action="store_true", help="also through bot.dbprocess")
    parser.add_argument("--held", action="store_true", help="engine vs one held connection")
    args = parser.parse_args()
    if args.tiny:
        args.updates, args.top, args.contend, args.process, args.held = 5, 5, True, True, True
    # The flood guard stays on (its cost counts), but hundreds of replies a minute are the
    # point here: past 20 it would answer "please slow down" and apply nothing.
    settings = Settings(flood=FloodConfig(messages_per_minute=1000))
    now = SystemClock().now()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'demo.db'}")
        upgrade(engine)
        with session_scope(engine) as session:
            sync_taxonomy(session)
            ensure_demo_data(session, settings, now)
        with session_scope(engine) as session:
            people = demo_people(session)
            person, number = None, None
            for official in people:  # a plain official with a task of their own
                if official.role != Role.OFFICIAL:
                    continue
                entries = my_items(session, official, now.date())
                if entries:
                    person, number = official, entries[0].id
                    break
            assert person is not None and person.id is not None
            session.add(
                ChannelIdentity(
                    official_id=person.id,
                    channel="telegram",
                    external_user_id="u1",
                    chat_id="u1",
                    linked_at=now,
                )
            )
        texts = [f"#{number} 50%", f"#{number} đang làm"]

        def updates_so_far() -> int:
            with session_scope(engine) as session:
                return session.exec(select(func.count()).select_from(ProgressUpdate)).one()

        handed: list[QueuedRow] = []  # as ``papi-bot run`` applies it (bot/app.py)

        def inbound_for(i: int) -> Inbound:
            return Inbound(
                channel="telegram",
                external_user_id="u1",
                chat_id="u1",
                update_key=str(i),
                received_at=now + timedelta(seconds=i),
                message_id=str(i),
                text=texts[i % 2],
            )

        def one(i: int) -> None:
            inbound = inbound_for(i)
            apply_inbound(engine, inbound, settings, inbound.received_at, handover=handed.extend)
            handed.clear()

        for i in range(10):  # warm up: first queries compile, catalogs load
            one(i)
        before = updates_so_far()
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        for i in range(10, 10 + args.updates):
            one(i)
        profile.disable()
        wall = time.perf_counter() - start
        print(
            f"{args.updates} status replies: {1000 * wall / args.updates:.2f} ms per update "
            "(under cProfile)"
        )
        # No listener on the engine while timing: with one, every statement takes
        # SQLAlchemy's path, not the cursor's (storage/prepared.py).
        start, cpu = time.perf_counter(), time.process_time()
        # Each phase's replies come after the previous phase's (received later): a reply
        # older than the task's latest update is a back-dated one, which replays the history
        # through the ORM (storage/progress.py) and would cost 50 ms, not 1.
        span = max(10_000, args.updates + 100)

        def phase(number: int, count: int = args.updates) -> range:
            return range(number * span, number * span + count)

        for i in phase(1):
            one(i)
        plain, cpu = time.perf_counter() - start, time.process_time() - cpu
        floor_db = Path(folder) / "floor.db"
        # The file as the captured run starts from, copied by SQLite: a plain copy would open
        # and close the live file here, and closing any descriptor of a file drops every
        # POSIX lock this process holds on it, so a connection elsewhere (the database
        # process) would take it for the last one and remove the WAL under this one's feet.
        with sqlite3.connect(Path(folder) / "demo.db") as live, sqlite3.connect(floor_db) as copy:
            live.backup(copy)
        live.close()
        copy.close()
        script: list[tuple[str, Any]] = []  # what a run sends to SQLite, commits too

        @event.listens_for(engine, "before_cursor_execute")
        def keep(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
            script.append((sql, (many, params)))

        @event.listens_for(engine, "commit")
        def keep_commit(_conn: Any) -> None:
            script.append((COMMIT, None))

        for i in phase(2):  # the same replies, captured untimed
            one(i)
        event.remove(engine, "before_cursor_execute", keep)
        event.remove(engine, "commit", keep_commit)
        floor = replay(floor_db, script)
        print(
            f"without the profiler: {1000 * plain / args.updates:.2f} ms per update "
            f"(CPU {1000 * cpu / args.updates:.2f} ms)"
        )
        print(
            f"baseline, the same statements and commits replayed by sqlite3 on a copy: CPU "
            f"{1000 * floor / args.updates:.2f} ms per update; apply_inbound ÷ baseline "
            f"{cpu / floor:.1f}×"
        )
        sql = sum(1 for statement, _step in script if statement != COMMIT)
        print(f"SQL statements per update: {sql / args.updates:.1f}")
        if args.contend:
            alone = thread_cpu(one, phase(3))
            contended = contend(lambda: thread_cpu(one, phase(4)))
            print(
                f"this thread's CPU per update, alone {1000 * alone / args.updates:.2f} ms; "
                f"with a second thread running Python {1000 * contended / args.updates:.2f} ms "
                f"({contended / alone:.1f}×)"
            )
        if args.process:
            alone = thread_cpu(one, phase(5))
            keys = phase(6, max(args.updates, 12))
            serial, parallel, caller = asyncio.run(
                through_process(engine, settings, inbound_for, keys)
            )
            alone /= args.updates

            def ratio(cpu: float) -> str:  # /proc counts 10 ms ticks: a tiny run may see none
                return f"{cpu / alone:.2f}×" if alone else "—"

            print(
                f"through the database process, its CPU per update: one at a time "
                f"{1000 * serial:.2f} ms ({ratio(serial)} this thread alone, "
                f"{1000 * alone:.2f} ms), all at once {1000 * parallel:.2f} ms "
                f"({ratio(parallel)}); the caller's {1000 * caller:.2f} ms"
            )
        if args.held:
            held_keys = phase(7, max(args.updates, 20))
            pooled, kept, ratio_held = held_vs_engine(engine, settings, inbound_for, held_keys)
            print(
                f"the applier on the engine {1000 * pooled:.3f} ms of CPU per update, on one "
                f"held connection {1000 * kept:.3f} ms: held ÷ engine {ratio_held:.3f} "
                "(median of ten alternating pairs)"
            )
        applied = updates_so_far() - before
        expected = 3 * args.updates + (2 * args.updates if args.contend else 0)
        if args.process:  # alone, then through the process
            expected += args.updates + max(args.updates, 12)
        if args.held:
            expected += max(args.updates, 20) // 20 * 20
        assert applied == expected, f"{applied} status changes for {expected}"
        stats = pstats.Stats(profile).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
