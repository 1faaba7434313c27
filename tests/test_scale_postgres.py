"""Issue 16 on a real PostgreSQL: one elected scheduler among many processes, outbox claims
that several workers share (leases, SKIP LOCKED), nothing sent twice, per-chat order kept.

Runs when ``PAPI_BOT_TEST_POSTGRES_URL`` is set (scripts/postgres-for-tests.sh).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.base import OutgoingMessage, SendResult
from bot.outbox import OutboxWorker
from bot.web.health import check
from kernel.clock import SystemClock
from storage.db import make_engine, session_scope
from storage.models import OutboxMessage
from storage.queue import add_outbox_rows
from tests.pgdb import SERVER_URL, migrated
from tests.test_outbox import FAST, ScriptedChannel
from tests.test_postgres import pg_url

__all__ = ["pg_url"]  # the fixture: a fresh database per test

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not SERVER_URL, reason="set PAPI_BOT_TEST_POSTGRES_URL"),
]

ROOT = Path(__file__).resolve().parents[1]

# A would-be scheduler process: the real election and the real scheduler, printing when it
# leads and each time the sweep runs (stdout is the test's window into the process).
WOULD_BE_SCHEDULER = """
import asyncio, contextlib, sys
from bot import metrics
from bot.config import Settings
from bot.scheduler import leader
from kernel.clock import SystemClock
from storage.db import make_engine

timed = metrics.timed_sweep

@contextlib.contextmanager
def announced():
    print("SWEEP", flush=True)
    with timed():
        yield

metrics.timed_sweep = announced
engine = make_engine(sys.argv[1])

def start():
    scheduler = leader.build_scheduler(engine, Settings(), SystemClock(), lambda: None)
    scheduler.start()
    print("LEADING", flush=True)
    return scheduler

asyncio.run(leader.Election(engine, start, retry_seconds=0.5).run())
"""


class SlowChannel(ScriptedChannel):
    """Each send takes a few milliseconds, as over the network: both workers get a share."""

    async def send(self, message: OutgoingMessage) -> SendResult:
        await asyncio.sleep(0.005)
        return await super().send(message)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    yield from migrated(pg_url)


class Scheduler:
    """One would-be scheduler process and the lines it printed so far."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WOULD_BE_SCHEDULER, url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def count(self, word: str) -> int:
        return self.lines.count(word)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_one_of_two_schedulers_runs_the_sweep_and_the_other_takes_over(
    pg: Engine, pg_url: str
) -> None:
    first, second = Scheduler(pg_url), Scheduler(pg_url)
    try:
        assert wait_for(lambda: first.count("SWEEP") + second.count("SWEEP") >= 1, 30)
        time.sleep(2.0)  # four election rounds: the other one must still be waiting
        leaders = [proc for proc in (first, second) if proc.count("LEADING")]
        assert len(leaders) == 1
        (leader,) = leaders
        follower = second if leader is first else first
        assert follower.count("SWEEP") == 0
        # Another process (the web console) sees that a leader exists.
        health = check(pg, SystemClock().now())
        assert health.database and health.leader is not None

        leader.kill()  # SIGKILL: no clean-up, PostgreSQL ends its session
        started = time.monotonic()
        assert wait_for(lambda: follower.count("SWEEP") >= 1, 60)
        assert time.monotonic() - started < 60
        assert follower.count("LEADING") == 1
    finally:
        first.kill()
        second.kill()


def _rows(engine: Engine, chats: int, per_chat: int) -> None:
    now = SystemClock().now()
    with session_scope(engine) as session:
        add_outbox_rows(
            session,
            [
                {
                    "channel": "telegram",
                    "chat_id": str(chat),
                    "text": f"{chat}:{number}",
                    "next_attempt_at": now,
                }
                for number in range(per_chat)
                for chat in range(chats)
            ],
        )


async def test_two_workers_never_send_a_row_twice_and_keep_each_chats_order(
    pg_url: str, pg: Engine
) -> None:
    _rows(pg, chats=12, per_chat=15)
    engines = [make_engine(pg_url) for _ in range(2)]
    channels = [SlowChannel(), SlowChannel()]
    sent: list[tuple[str, str]] = []
    for channel in channels:
        channel.delivered = sent  # one log, in the order the sends happened
    workers = [
        OutboxWorker(engine, {"telegram": channel}, FAST, SystemClock())
        for engine, channel in zip(engines, channels, strict=True)
    ]
    try:
        for _ in range(30):
            await asyncio.gather(*(worker.drain() for worker in workers))
            with Session(pg) as session:
                left = session.exec(
                    select(OutboxMessage.id).where(col(OutboxMessage.status) == "pending")
                ).all()
            if not left:
                break
            await asyncio.sleep(0.2)
    finally:
        for worker in workers:
            worker.close()
        for engine in engines:
            engine.dispose()
    assert len(sent) == 12 * 15 and len(set(sent)) == len(sent)  # each row once
    # Which worker sends a chat is a race (a chat is one worker's while it has a claim);
    # what must hold whoever wins: every row once, each chat in order.
    for chat in range(12):  # across both workers, each chat's rows went in order
        numbers = [int(text.split(":")[1]) for c, text in sent if c == str(chat)]
        assert numbers == list(range(15))


async def test_a_live_claim_is_not_stolen_and_a_dead_ones_lease_runs_out(pg: Engine) -> None:
    clock = SystemClock()
    _rows(pg, chats=2, per_chat=1)
    with Session(pg) as session:
        ids = sorted(row_id or 0 for row_id in session.exec(select(OutboxMessage.id)).all())
    live, dead = ids
    now = clock.now()
    with session_scope(pg) as session:  # what two workers' claims look like in the table
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == live)
            .values(
                claimed_at=now,
                claimed_by="w1",
                attempts=1,
                next_attempt_at=now + timedelta(minutes=5),
            )
        )
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == dead)
            .values(
                claimed_at=now - timedelta(minutes=6),
                claimed_by="w2",
                attempts=1,
                next_attempt_at=now - timedelta(minutes=1),
            )
        )
    channel = ScriptedChannel()
    worker = OutboxWorker(pg, {"telegram": channel}, FAST, clock)
    try:
        assert worker._store.recover_claims() == 1  # only the expired lease
        await worker.drain()
    finally:
        worker.close()
    assert channel.delivered == [("1", "1:0")]  # the dead worker's row; the live one waits
    with Session(pg) as session:
        rows = {row.id: row for row in session.exec(select(OutboxMessage)).all()}
    assert rows[live].status == "pending" and rows[live].claimed_by == "w1"
    assert rows[dead].status == "sent" and rows[dead].claimed_by is None
