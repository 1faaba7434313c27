"""Issue 16, all at once on a real PostgreSQL: three ``papi-bot run --role worker``
processes, two would-be schedulers and one web process against the fake Bot API server; a
burst of replies and a sweep of 10,000 reminders; one worker and the leading scheduler are
SIGKILLed mid-burst (the leader mid-sweep). Then: every message delivered, none twice
except the documented one-call window (counted, and each one a row the killed worker held),
each chat's messages in the order of its outbox rows (the replies in the order the user
wrote), a new leader within a minute, no reminder twice.

Runs when ``PAPI_BOT_TEST_POSTGRES_URL`` is set (scripts/postgres-for-tests.sh). About two
minutes on two cores; the lease is set short ([outbox] claim_lease_seconds) so the killed
worker's rows come due within the test, the election's retry is the shipped one.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.scheduler.leader import RETRY_SECONDS
from kernel.clock import VN_TZ
from storage.db import make_engine, session_scope, upgrade
from storage.models import (
    Assignment,
    AssignmentOfficial,
    ChannelIdentity,
    Official,
    OutboxMessage,
    Plan,
    ProcessedUpdate,
    ReminderLog,
    Task,
    Unit,
)
from storage.taxonomy import sync_taxonomy
from tests.fakes.fake_telegram import FakeTelegram, SentMessage
from tests.pgdb import SERVER_URL
from tests.test_postgres import pg_url

__all__ = ["pg_url"]  # the fixture: a fresh database per test

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.skipif(not SERVER_URL, reason="set PAPI_BOT_TEST_POSTGRES_URL"),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "515151:CHAOS-secret-bot-token-do-not-log"
OFFICIALS = 500
TASKS = 20  # assignments per official: OFFICIALS * TASKS reminders
REMINDERS = OFFICIALS * TASKS
TALKERS = 40  # officials who write during the burst
WRITES = 10  # messages each of them writes ("<task> <k>%", k = 1..WRITES)
LEASE_SECONDS = 45  # the smallest lease the settings accept
USER_BASE = 900_000  # Telegram user id (= private chat id) of official n: USER_BASE + n
DEADLINE_SECONDS = 420  # start-up to the last message: about 2 min on 2 idle cores
LEADER_BOUND_SECONDS = 60.0  # the "a new leader within a minute"


# --- the database: 10,000 assignments due today ------------------------------------------------


@dataclass
class Seeded:
    first_assignment: dict[int, int]  # official number -> the assignment they write about


def seed(engine: Engine, today_start: datetime) -> Seeded:
    """OFFICIALS officials, each in a commune of their own with TASKS assignments due today
    (created before today began, so the due-day reminder is the one that is due)."""
    created = today_start - timedelta(hours=1)
    with session_scope(engine) as session:
        province = Unit(code="P", name="Tỉnh", name_folded="tinh", level="province")
        session.add(province)
        session.flush()
        province.path = f"/{province.id}/"
        plan = Plan(year=today_start.year, title="KH thử", province_id=province.id)
        session.add(plan)
        session.flush()
        task_rows = [
            Task(
                plan_id=plan.id or 0,
                order=t + 1,
                text=f"Nhiệm vụ thử số {t + 1}",
                deadline_kind="date",
                due_date=today_start.date(),
                deadline_raw=today_start.date().isoformat(),
            )
            for t in range(TASKS)
        ]
        session.add_all(task_rows)
        session.flush()
        tasks = [task.id for task in task_rows]
        conn = session.connection()
        communes = (
            conn.execute(
                insert(Unit).returning(col(Unit.id), sort_by_parameter_order=True),
                [
                    {
                        "code": f"C{n}",
                        "name": f"Xã {n}",
                        "name_folded": f"xa {n}",
                        "level": "commune",
                        "parent_id": province.id,
                        "path": "",
                    }
                    for n in range(OFFICIALS)
                ],
            )
            .scalars()
            .all()
        )
        conn.execute(  # "/<province>/<commune>/": the materialised path of storage.units
            update(Unit)
            .where(col(Unit.parent_id) == province.id)
            .values(path=func.concat("/", province.id, "/", col(Unit.id), "/"))
        )
        officials = (
            conn.execute(
                insert(Official).returning(col(Official.id), sort_by_parameter_order=True),
                [
                    {"name": f"Cán bộ {n}", "phone": f"+8491{n:07d}", "unit_id": communes[n]}
                    for n in range(OFFICIALS)
                ],
            )
            .scalars()
            .all()
        )
        conn.execute(
            insert(ChannelIdentity),
            [
                {
                    "official_id": officials[n],
                    "channel": "telegram",
                    "external_user_id": str(USER_BASE + n),
                    "chat_id": str(USER_BASE + n),
                }
                for n in range(OFFICIALS)
            ],
        )
        # Official by official, task by task: a chat's reminders are consecutive assignments.
        assignments = (
            conn.execute(
                insert(Assignment).returning(col(Assignment.id), sort_by_parameter_order=True),
                [
                    {"task_id": task, "unit_id": communes[n], "created_at": created}
                    for n in range(OFFICIALS)
                    for task in tasks
                ],
            )
            .scalars()
            .all()
        )
        conn.execute(
            insert(AssignmentOfficial),
            [
                {
                    "assignment_id": assignments[n * TASKS + t],
                    "official_id": officials[n],
                    "assigned_at": created,
                }
                for n in range(OFFICIALS)
                for t in range(TASKS)
            ],
        )
    return Seeded({n: int(assignments[n * TASKS] or 0) for n in range(TALKERS)})


# --- the processes -----------------------------------------------------------------------------


class Role:
    """One ``papi-bot run --role <role>`` process; its output goes to a file."""

    def __init__(self, role: str, name: str, folder: Path, env: dict[str, str]) -> None:
        self.role = role
        self.name = name
        self.log_path = folder / f"{name}.log"
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--role",
                self.role,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        if self.proc is None or self.proc.returncode is not None:
            return 0 if self.proc is None else int(self.proc.returncode or 0)
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            return -9

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def leads(self) -> bool:
        return f":{self.pid} leads the sweep" in self.log_text()


# --- what the database and the fake server say ---------------------------------------------------


def scalar(engine: Engine, query: Select[Any]) -> int:
    with Session(engine) as session:
        return int(session.execute(query).scalar_one())


def held_by(engine: Engine, pid: int) -> set[int]:
    """The rows whose claim (lease) the process ``pid`` holds: host:pid:random."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(OutboxMessage.id), col(OutboxMessage.claimed_by))
            .where(col(OutboxMessage.status) == "pending")
            .where(col(OutboxMessage.claimed_by).is_not(None))
        ).all()
    return {int(row_id) for row_id, owner in rows if str(owner).rsplit(":", 2)[1] == str(pid)}


def claims_per_process(engine: Engine) -> Counter[int]:
    with Session(engine) as session:
        owners = session.execute(
            select(col(OutboxMessage.claimed_by))
            .where(col(OutboxMessage.status) == "pending")
            .where(col(OutboxMessage.claimed_by).is_not(None))
        ).scalars()
        return Counter(int(str(owner).rsplit(":", 2)[1]) for owner in owners)


@dataclass
class Delivery:
    """Per chat, what the fake server received against what the outbox holds."""

    missing: list[int] = field(default_factory=list)  # outbox ids never received
    doubled: dict[int, int] = field(default_factory=dict)  # outbox id -> copies received
    out_of_order: list[str] = field(default_factory=list)  # chats whose order broke
    unknown: list[str] = field(default_factory=list)  # texts no outbox row has


def compare(sent: list[SentMessage], rows: list[OutboxMessage]) -> Delivery:
    """The received messages of each chat, a repeat of the same row right after it
    collapsed (the one-call window resends the row before the chat goes on), must be that
    chat's outbox rows in id order."""
    result = Delivery()
    expected: defaultdict[str, list[OutboxMessage]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.id or 0):
        expected[row.chat_id].append(row)
    received: defaultdict[str, list[str]] = defaultdict(list)
    for item in sent:
        received[item.chat_id].append(item.text or "")
    for chat in sorted(set(expected) | set(received)):
        want = expected.get(chat, [])
        texts = [row.text for row in want]
        assert len(set(texts)) == len(texts), f"chat {chat}: two rows with one text"
        by_text = {row.text: row.id or 0 for row in want}
        collapsed: list[str] = []
        for text in received.get(chat, []):
            if text not in by_text:
                result.unknown.append(text)
            elif collapsed and collapsed[-1] == text:
                row_id = by_text[text]
                result.doubled[row_id] = result.doubled.get(row_id, 1) + 1
                continue
            collapsed.append(text)
        counts = Counter(collapsed)
        result.missing.extend(by_text[t] for t in texts if counts[t] == 0)
        for text, count in counts.items():
            if count > 1 and text in by_text:  # sent again later: not the one-call window
                result.doubled[by_text[text]] = count
                result.out_of_order.append(chat)
        if [t for t in collapsed if t in by_text] != [t for t in texts if counts[t]]:
            result.out_of_order.append(chat)
    return result


async def until(what: str, check: Callable[[], bool], seconds: float, step: float = 0.05) -> float:
    """Poll ``check`` (in a thread: the fake server shares this loop) until it holds; the
    seconds it took."""
    started = time.monotonic()
    while not await asyncio.to_thread(check):
        if time.monotonic() - started > seconds:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(step)
    return time.monotonic() - started


# --- the test ------------------------------------------------------------------------------------


def config_text(folder: Path, fake: FakeTelegram) -> str:
    # Quiet hours off (start = end), every day a working day, send_at at midnight: the
    # due-day reminders are due whenever the test runs.
    return (
        f'[app]\ndata_dir = "{folder}"\n\n[web]\nenabled = false\n\n'
        f'[telegram]\napi_base = "{fake.base_url}"\n'
        "global_rate_per_second = 100000\nper_chat_rate_per_second = 100000\n\n"
        f"[outbox]\nclaim_lease_seconds = {LEASE_SECONDS}\n\n"
        '[quiet_hours]\nstart = "00:00"\nend = "00:00"\nsend_at = "00:00"\n'
        "skip_weekends = false\nskip_public_holidays = false\n"
    )


async def test_workers_and_the_leader_killed_mid_burst_lose_and_double_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    print()
    engine = make_engine(pg_url)
    upgrade(engine)
    with session_scope(engine) as session:
        sync_taxonomy(session)
    now = datetime.now(VN_TZ)
    seeded = seed(engine, datetime.combine(now.date(), dtime(0, 0), VN_TZ))
    print(f"chaos: {time.monotonic() - began:6.1f} s  seeded", flush=True)

    fake = FakeTelegram(TOKEN)
    await fake.start()
    fake.limit(global_per_second=50_000, per_chat_per_second=None)  # high: 10,000 go quickly
    tmp_path.joinpath("config.toml").write_text(config_text(tmp_path, fake), encoding="utf-8")
    env = {
        **os.environ,
        "PAPI_BOT_CONFIG": str(tmp_path / "config.toml"),
        "PAPI_BOT_DATABASE_URL": pg_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
    }
    web = Role("web", "web", tmp_path, env)
    workers = [Role("worker", f"worker{n}", tmp_path, env) for n in range(3)]
    schedulers = [Role("scheduler", f"scheduler{n}", tmp_path, env) for n in range(2)]
    everyone = [web, *workers, *schedulers]
    figures: dict[str, float] = {}

    def mark(step: str) -> None:
        print(f"chaos: {time.monotonic() - began:6.1f} s  {step}", flush=True)

    try:
        for process in everyone:  # together: their start-ups overlap
            await process.start()
        polling = lambda: any(method == "getUpdates" for method, _params in fake.calls)  # noqa: E731
        await until("the web process to poll", polling, 120)
        mark("processes up")

        async def write(ks: range) -> None:
            for k in ks:
                for n in range(TALKERS):
                    await fake.inject_message(USER_BASE + n, f"{seeded.first_assignment[n]} {k}%")

        await write(range(1, WRITES // 2 + 1))  # the first half of the burst of replies
        mark("first half of the burst written")

        # The leader, killed mid-sweep: some reminder keys are written, not all.
        await until("a scheduler to lead", lambda: any(s.leads() for s in schedulers), 120, 0.02)
        leader = next(s for s in schedulers if s.leads())
        follower = next(s for s in schedulers if s is not leader)
        await until(
            "the sweep to write",
            lambda: scalar(engine, select(func.count()).select_from(ReminderLog)) > 0,
            120,
            0.01,
        )
        mark("sweep writing")
        await leader.kill()
        # Watched from now on, while the rest goes on: the seconds until the other leads.
        takeover = asyncio.create_task(until("a new leader", follower.leads, 120, 0.1))
        keys_at_kill = scalar(engine, select(func.count()).select_from(ReminderLog))

        # A worker, killed mid-delivery: the one holding the most claims just then.
        await until("deliveries to be under way", lambda: len(fake.sent) >= 1_500, 120)
        claims = claims_per_process(engine)
        victim = max(workers, key=lambda w: claims.get(w.pid, 0))
        mark("1,500 delivered")
        await victim.kill()
        in_flight = held_by(engine, victim.pid)  # its leases: what the one-call window may resend
        await write(range(WRITES // 2 + 1, WRITES + 1))  # the burst goes on meanwhile

        figures["new leader after"] = await takeover

        updates = TALKERS * WRITES

        def all_delivered() -> bool:
            processed = scalar(engine, select(func.count()).select_from(ProcessedUpdate))
            outbox = select(func.count()).select_from(OutboxMessage)
            reminders = scalar(engine, outbox.where(col(OutboxMessage.kind) == "reminder"))
            unsent = scalar(engine, outbox.where(col(OutboxMessage.status) != "sent"))
            state.update(processed=processed, reminders=reminders, unsent=unsent)
            state["received"] = len(fake.sent)
            return processed == updates and reminders >= REMINDERS and unsent == 0

        state: dict[str, int] = {}
        remaining = DEADLINE_SECONDS - (time.monotonic() - began)
        try:
            await until("every message to be delivered", all_delivered, remaining, 0.5)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {state}") from None
        figures["delivered after"] = time.monotonic() - began
        mark("all delivered")
        await asyncio.sleep(2.0)  # a late second copy would arrive now
    finally:
        codes = {p.name: await p.stop() for p in everyone if p.alive()}
        await fake.stop()

    with Session(engine) as session:
        rows = list(session.execute(select(OutboxMessage)).scalars())
        keys = [str(key) for key in session.execute(select(col(ReminderLog.key))).scalars()]
    engine.dispose()
    delivery = compare(fake.sent, rows)
    doubled = sum(copies - 1 for copies in delivery.doubled.values())
    print(
        f"\nchaos: {len(rows)} rows, {len(fake.sent)} messages received, {doubled} doubled "
        f"(killed worker held {len(in_flight)} claims), {keys_at_kill} reminder keys when the "
        f"leader died, new leader after {figures['new leader after']:.1f} s, all delivered "
        f"after {figures['delivered after']:.0f} s"
    )

    # The kills landed where they were meant to.
    assert 0 < keys_at_kill < REMINDERS, "the leader was not killed mid-sweep"
    assert in_flight, "the killed worker held no claim: it was not killed mid-delivery"
    # A new leader within a minute; with the shipped retry, within about one retry.
    assert figures["new leader after"] < LEADER_BOUND_SECONDS
    assert figures["new leader after"] < RETRY_SECONDS * 2 + 5
    # No reminder twice: one key and one outbox row per assignment, each delivered once.
    assert len(keys) == REMINDERS
    assert all(key.startswith("due_day:") for key in keys)
    reminder_rows = Counter(row.assignment_id for row in rows if row.kind == "reminder")
    assert len(reminder_rows) == REMINDERS and set(reminder_rows.values()) == {1}
    # Every message delivered, each chat's in order, none twice but the one-call window.
    assert all(row.status == "sent" for row in rows)
    assert not delivery.unknown, delivery.unknown[:5]
    assert not delivery.missing, f"{len(delivery.missing)} rows never arrived"
    assert not delivery.out_of_order, f"order broken in chats {delivery.out_of_order[:5]}"
    assert set(delivery.doubled) <= in_flight, "a row not in flight at the kill came twice"
    assert all(copies == 2 for copies in delivery.doubled.values())
    # ... at most one per chat: a chat has one claim at a time.
    chats_doubled = Counter(row.chat_id for row in rows if (row.id or 0) in delivery.doubled)
    assert set(chats_doubled.values()) <= {1}
    # The replies went in the order each official wrote them.
    replies: defaultdict[str, list[int]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.id or 0):
        if row.kind == "reply":
            found = re.search(r"(\d+)%", row.text)
            assert found is not None, row.text
            replies[row.chat_id].append(int(found.group(1)))
    assert len(replies) == TALKERS
    assert all(ks == list(range(1, WRITES + 1)) for ks in replies.values()), replies
    # The survivors stop cleanly; nothing secret reached a log.
    assert all(code == 0 for code in codes.values()), codes
    for process in everyone:
        assert TOKEN not in process.log_text()
    assert time.monotonic() - began < DEADLINE_SECONDS + 60
