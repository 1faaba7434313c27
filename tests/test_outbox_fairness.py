"""One chat's backlog never holds back the other chats (issue 12, availability).

A chat may be sent at most one message a second (Telegram's per-chat limit), so 200 replies
queued for one chat take 200 s. Every test here queues such a backlog for one chat and then
checks that another chat is served within a few seconds: a new reply, a reply whose first
try failed (its retry comes due during the backlog), and a row scheduled a moment later.
The real worker sends through aiogram's HTTP session to the fake Bot API server, which
enforces the same limits (429 past them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.channels.telegram import TelegramChannel, make_bot
from bot.config import OutboxConfig, Settings, TelegramConfig
from bot.outbox import OutboxWorker
from kernel.clock import SystemClock
from storage.models import OUTBOX_PRIORITY_REPLY, OutboxMessage
from tests.fakes.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-fairness-token-abcdef"
BACKLOG_CHAT, OTHER_CHAT = "6000", "7003"
BACKLOG = 200
# Telegram's real limits (the defaults), and a short back-off so a retry is due in ~0.5 s.
SETTINGS = Settings(
    outbox=OutboxConfig(backoff_base_seconds=0.5, backoff_max_seconds=2.0),
    telegram=TelegramConfig(global_rate_per_second=30, per_chat_rate_per_second=1),
)
PROMPT_SECONDS = 6.0  # the other chat's message must arrive within this (200 s without)


def add(engine: Engine, chat: str, texts: list[str], *, delay: float = 0.0) -> None:
    due = SystemClock().now() + timedelta(seconds=delay)
    with Session(engine) as session:
        session.add_all(
            OutboxMessage(
                channel="telegram",
                chat_id=chat,
                text=text,
                next_attempt_at=due,
                priority=OUTBOX_PRIORITY_REPLY,
            )
            for text in texts
        )
        session.commit()


def pending(engine: Engine, chat: str) -> int:
    with Session(engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.chat_id) == chat)
                .where(col(OutboxMessage.status) == "pending")
            ).one()
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN)
    await server.start()
    server.limit(global_per_second=30, per_chat_per_second=1)
    yield server
    await server.stop()


@pytest.fixture
async def running(engine: Engine, fake: FakeTelegram) -> AsyncIterator[OutboxWorker]:
    """The worker running, with ``BACKLOG`` replies queued for one chat and its sending begun."""
    add(engine, BACKLOG_CHAT, [f"hello {n}" for n in range(BACKLOG)])
    bot = make_bot(TOKEN, fake.base_url)
    worker = OutboxWorker(engine, {"telegram": TelegramChannel(bot)}, SETTINGS, SystemClock())
    task = asyncio.create_task(worker.run())
    try:
        await fake.wait_sent(2, chat_id=BACKLOG_CHAT, wait_seconds=10)
        yield worker
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await bot.session.close()


async def arrival_seconds(fake: FakeTelegram, chat: str, count: int = 1) -> float:
    started = time.monotonic()
    await fake.wait_sent(count, chat_id=chat, wait_seconds=PROMPT_SECONDS)
    return time.monotonic() - started


async def test_a_reply_to_another_chat_goes_at_once(
    engine: Engine, fake: FakeTelegram, running: OutboxWorker
) -> None:
    await asyncio.to_thread(add, engine, OTHER_CHAT, ["Các chức năng: /nhiemvu …"])
    running.wake()
    assert await arrival_seconds(fake, OTHER_CHAT) < 2.0
    assert pending(engine, BACKLOG_CHAT) > BACKLOG - 20  # the backlog is still being paced


async def test_a_retry_of_another_chat_is_not_held_back_by_the_backlog(
    engine: Engine, fake: FakeTelegram, running: OutboxWorker
) -> None:
    """The other chat's first try fails (500); its retry comes due in ~0.5 s while the backlog
    chat still has ~195 rows to pace: the retry must go then, not after the backlog."""
    fake.fail_next("sendMessage", 500, chat_id=OTHER_CHAT)
    await asyncio.to_thread(add, engine, OTHER_CHAT, ["Đã ghi nhận."])
    running.wake()
    assert await arrival_seconds(fake, OTHER_CHAT) < PROMPT_SECONDS
    assert [m.text for m in fake.sent_to(OTHER_CHAT)] == ["Đã ghi nhận."]
    assert pending(engine, BACKLOG_CHAT) > BACKLOG - 20
    assert fake.too_many_requests == 0  # the backlog chat is still paced at 1 message/s


async def test_a_row_coming_due_during_the_backlog_is_sent_when_due(
    engine: Engine, fake: FakeTelegram, running: OutboxWorker
) -> None:
    """A message scheduled two seconds ahead (as a reminder after quiet hours is) goes when
    it is due, not when the other chat's backlog is done."""
    await asyncio.to_thread(add, engine, OTHER_CHAT, ["Nhắc việc"], delay=2.0)
    running.wake()
    assert await arrival_seconds(fake, OTHER_CHAT) < PROMPT_SECONDS
    assert pending(engine, BACKLOG_CHAT) > BACKLOG - 20


async def test_the_backlog_chat_keeps_its_order_and_pace(
    engine: Engine, fake: FakeTelegram, running: OutboxWorker
) -> None:
    await fake.wait_sent(6, chat_id=BACKLOG_CHAT, wait_seconds=15)
    sent = fake.sent_to(BACKLOG_CHAT)
    assert [m.text for m in sent] == [f"hello {n}" for n in range(len(sent))]
    assert fake.too_many_requests == 0
