"""Reminders from the sweep, through the outbox worker, to the fake Bot API server that
injects 429, 500 and timeouts: every reminder arrives exactly once, in order per chat, with
its task buttons — also when the bot restarts between sweeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.telegram import TelegramChannel, make_bot
from bot.config import OutboxConfig, Settings, TelegramConfig
from bot.outbox import OutboxWorker
from bot.scheduler.sweep import sweep
from kernel.clock import FixedClock
from storage.db import make_engine
from storage.models import ChannelIdentity, Official, OutboxMessage
from tests.fakes.fake_telegram import FakeTelegram
from tests.scheduler.world import small_province, vn

TOKEN = "123456:TEST-scheduler-token-abcdef"
SETTINGS = Settings(
    outbox=OutboxConfig(max_attempts=5, backoff_base_seconds=0.05, backoff_max_seconds=0.2),
    telegram=TelegramConfig(global_rate_per_second=1000, per_chat_rate_per_second=1000),
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN, hang_seconds=2.0)
    await server.start()
    yield server
    await server.stop()


def build(engine: Engine) -> dict[str, str]:
    """Lan (vi) and Bob (en) each carry four tasks due on different days of August 2026."""
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan()
        for order, due in enumerate((10, 12, 14, 18), start=1):
            for unit, who in (("A", ("Lan",)), ("B", ())):
                task = world.task(order, f"Nhiệm vụ {unit}{order}", due=date(2026, 8, due))
                world.assign(task, unit, created=vn(2026, 7, 1, 9), officials=who)
        world.commit()
        chats = {
            o.name: i.chat_id
            for o, i in session.exec(
                select(Official, ChannelIdentity).join(
                    ChannelIdentity, col(ChannelIdentity.official_id) == Official.id
                )
            )
        }
    return chats


class RunningClock:
    """Starts at a fixed moment and runs at real speed: retries and back-off work as in
    production, and the test does not depend on today's date (rows are written in 2026)."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._began)


async def deliver(engine: Engine, fake: FakeTelegram, expected: int, at: datetime) -> None:
    bot = make_bot(TOKEN, fake.base_url, timeout=0.5)
    clock = RunningClock(at)
    worker = OutboxWorker(engine, {"telegram": TelegramChannel(bot)}, SETTINGS, clock)
    task = asyncio.create_task(worker.run())
    try:
        await fake.wait_sent(expected, wait_seconds=30)
        for _ in range(200):  # the "sent" commit follows the HTTP answer
            with Session(engine) as session:
                pending = session.exec(
                    select(OutboxMessage).where(OutboxMessage.status == "pending")
                ).all()
            if not pending:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await bot.session.close()


def rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


async def test_reminders_survive_faults_and_restarts(
    engine: Engine, db_url: str, fake: FakeTelegram
) -> None:
    chats = build(engine)
    fake.fail_next("sendMessage", 429, chat_id=chats["Lan"], retry_after=1)
    fake.fail_next("sendMessage", 500, chat_id=chats["Bob"], times=2)
    fake.fail_next("sendMessage", "timeout", chat_id=chats["Hùng"])
    # week one: sweeps every working morning, the worker delivers after each
    for day in (3, 6, 7):
        sweep(engine, SETTINGS, FixedClock(vn(2026, 8, day, 8)))
    first = rows(engine)
    await deliver(engine, fake, len(first), at=vn(2026, 8, 7, 12))
    # "crash" and restart: a new engine, the same moments swept again, then later days
    engine.dispose()
    reborn = make_engine(db_url)
    for day in (7, 10, 11, 12, 13, 14):
        for minute in (0, 5):
            sweep(reborn, SETTINGS, FixedClock(vn(2026, 8, day, 8, minute)))
    await deliver(reborn, fake, len(rows(reborn)), at=vn(2026, 8, 14, 12))
    every = rows(reborn)

    assert len(fake.sent) == len(every)  # each row exactly once on the wire
    assert not fake.faults
    assert all(row.status == "sent" for row in every)
    for chat in {row.chat_id for row in every}:
        assert [m.text for m in fake.sent_to(chat)] == [r.text for r in every if r.chat_id == chat]
    reminders = [r for r in every if r.kind == "reminder"]
    assert len({(r.chat_id, r.text, r.assignment_id) for r in reminders}) == len(reminders)
    by_text = {m.text: m for m in fake.sent}
    for row in reminders:
        payloads = [b["callback_data"] for line in by_text[row.text].buttons for b in line]
        assert f"a:{row.assignment_id}:done" in payloads
    english = [r.text for r in reminders if r.chat_id == chats["Bob"]]
    assert english and all("Deadline: due" in text for text in english)
    reborn.dispose()
