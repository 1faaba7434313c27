"""The outbox worker: order per chat, retries, throttling, unreachable users, crash recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.base import (
    ContactStopped,
    OutgoingMessage,
    PermanentFailure,
    SendError,
    SendResult,
    TemporaryFailure,
    Throttled,
)
from bot.channels.telegram import TelegramChannel, make_bot
from bot.config import OutboxConfig, Settings, TelegramConfig
from bot.outbox import OutboxWorker
from bot.outbox_store import backoff_delay
from kernel.clock import FixedClock, SystemClock
from storage.models import OUTBOX_PRIORITY_REPLY, ChannelIdentity, Official, OutboxMessage, Unit
from tests.fakes.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-outbox-token-abcdef"
FAST = Settings(
    outbox=OutboxConfig(max_attempts=4, backoff_base_seconds=0.05, backoff_max_seconds=0.2),
    telegram=TelegramConfig(global_rate_per_second=1000, per_chat_rate_per_second=1000),
)


class ScriptedChannel:
    """A channel whose answers are scripted per chat; records what it delivered."""

    name = "telegram"  # so the worker paces it by Telegram's declared limits

    def __init__(self) -> None:
        self.script: dict[str, list[SendError]] = {}
        self.delivered: list[tuple[str, str]] = []
        self.calls = 0

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.calls += 1
        errors = self.script.get(message.chat_id)
        if errors:
            raise errors.pop(0)
        self.delivered.append((message.chat_id, message.text))
        return SendResult(external_message_id=f"m{len(self.delivered)}")


def add_rows(engine: Engine, clock: FixedClock, chat_texts: list[tuple[str, str]]) -> list[int]:
    with Session(engine, expire_on_commit=False) as session:
        rows = [
            OutboxMessage(channel="telegram", chat_id=chat, text=text, next_attempt_at=clock.now())
            for chat, text in chat_texts
        ]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows if row.id is not None]


def rows_by_id(engine: Engine) -> dict[int, OutboxMessage]:
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return {row.id: row for row in rows if row.id is not None}


@pytest.fixture
async def worker_for(
    engine: Engine, clock: FixedClock
) -> AsyncIterator[Callable[[ScriptedChannel], OutboxWorker]]:
    made: list[OutboxWorker] = []

    def make(channel: ScriptedChannel) -> OutboxWorker:
        worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.close()


async def test_sends_due_rows_in_order_and_marks_them_sent(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    channel = ScriptedChannel()
    ids = add_rows(engine, clock, [("1", "a"), ("2", "x"), ("1", "b"), ("1", "c")])
    worker = worker_for(channel)

    assert await worker.drain() == 4
    assert [text for chat, text in channel.delivered if chat == "1"] == ["a", "b", "c"]
    rows = rows_by_id(engine)
    assert all(rows[i].status == "sent" and rows[i].sent_at == clock.now() for i in ids)
    assert {rows[i].external_message_id for i in ids} == {"m1", "m2", "m3", "m4"}
    assert await worker.drain() == 0  # nothing is sent twice
    assert len(channel.delivered) == 4


async def test_temporary_failure_backs_off_and_holds_the_chat_back(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    channel = ScriptedChannel()
    channel.script["1"] = [TemporaryFailure("500")]
    first, second, other = add_rows(engine, clock, [("1", "a"), ("1", "b"), ("2", "x")])
    worker = worker_for(channel)

    assert await worker.drain() == 2  # "a" tried and failed, "x" sent; "b" waits behind "a"
    assert channel.delivered == [("2", "x")]
    rows = rows_by_id(engine)
    assert rows[first].status == "pending" and rows[first].attempts == 1
    assert rows[first].next_attempt_at == clock.now() + backoff_delay(FAST, 1)
    assert rows[first].last_error == "temporary: 500"
    assert rows[second].attempts == 0

    assert await worker.drain() == 0  # not due yet
    clock.advance(timedelta(seconds=1))
    assert await worker.drain() == 2
    assert channel.delivered == [("2", "x"), ("1", "a"), ("1", "b")]
    assert rows_by_id(engine)[other].status == "sent"


async def test_gives_up_after_max_attempts_and_lets_the_next_row_go(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    channel = ScriptedChannel()
    channel.script["1"] = [TemporaryFailure("timeout") for _ in range(10)]
    first, _second = add_rows(engine, clock, [("1", "a"), ("1", "b")])
    worker = worker_for(channel)
    for _ in range(FAST.outbox.max_attempts):
        await worker.drain()
        clock.advance(timedelta(seconds=1))
    row = rows_by_id(engine)[first]
    assert row.status == "failed" and row.attempts == FAST.outbox.max_attempts
    channel.script["1"] = []
    await worker.drain()
    assert channel.delivered == [("1", "b")]


async def test_throttled_waits_retry_after_without_counting_an_attempt(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    channel = ScriptedChannel()
    channel.script["1"] = [Throttled(7)]
    (row_id,) = add_rows(engine, clock, [("1", "a")])
    worker = worker_for(channel)
    await worker.drain()
    row = rows_by_id(engine)[row_id]
    assert row.attempts == 0 and row.status == "pending"
    assert row.next_attempt_at == clock.now() + timedelta(seconds=7)
    clock.advance(timedelta(seconds=6))
    assert await worker.drain() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.drain() == 1
    assert channel.delivered == [("1", "a")]


async def test_contact_stopped_marks_rows_and_identity_unreachable(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    with Session(engine) as session:
        unit = Unit(code="T1", name="Tỉnh Thử", name_folded="tinh thu", level="province")
        session.add(unit)
        session.flush()
        official = Official(name="Nguyễn Văn A", phone="+84900000001", unit_id=unit.id or 0)
        session.add(official)
        session.flush()
        session.add(
            ChannelIdentity(
                official_id=official.id or 0, channel="telegram", external_user_id="5", chat_id="5"
            )
        )
        session.commit()
    channel = ScriptedChannel()
    channel.script["5"] = [ContactStopped("403")]
    first, second, other = add_rows(engine, clock, [("5", "a"), ("5", "b"), ("6", "x")])
    worker = worker_for(channel)
    await worker.drain()

    rows = rows_by_id(engine)
    assert rows[first].status == "unreachable" and rows[second].status == "unreachable"
    assert rows[other].status == "sent"
    assert channel.calls == 2  # "b" was not even tried
    with Session(engine) as session:
        identity = session.exec(select(ChannelIdentity)).one()
        assert identity.unreachable_at == clock.now()


async def test_permanent_failure_fails_the_row_only(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    channel = ScriptedChannel()
    channel.script["1"] = [PermanentFailure("400 Bad Request")]
    first, second = add_rows(engine, clock, [("1", "a"), ("1", "b")])
    worker = worker_for(channel)
    await worker.drain()
    rows = rows_by_id(engine)
    assert rows[first].status == "failed" and "400" in (rows[first].last_error or "")
    assert rows[second].status == "sent"


async def test_a_row_scheduled_for_later_does_not_block_a_due_reply(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    later, _reply = add_rows(engine, clock, [("1", "reminder at 08:00"), ("1", "reply")])
    with Session(engine) as session:
        row = session.get(OutboxMessage, later)
        assert row is not None
        row.next_attempt_at = clock.now() + timedelta(hours=10)
        session.add(row)
        session.commit()
    channel = ScriptedChannel()
    worker = worker_for(channel)
    assert await worker.drain() == 1
    assert channel.delivered == [("1", "reply")]
    clock.advance(timedelta(hours=10))
    assert await worker.drain() == 1
    assert rows_by_id(engine)[later].status == "sent"


async def test_rows_of_an_unknown_channel_are_left_alone(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    with Session(engine) as session:
        session.add(
            OutboxMessage(channel="zalo", chat_id="9", text="z", next_attempt_at=clock.now())
        )
        session.commit()
    worker = worker_for(ScriptedChannel())
    assert await worker.drain() == 0
    assert [row.status for row in rows_by_id(engine).values()] == ["pending"]


async def test_claimed_row_is_not_sent_again_until_recovered(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    """A crash between send and commit leaves a claim; the next start resends (at-least-once)."""
    (row_id,) = add_rows(engine, clock, [("1", "a")])
    with Session(engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.attempts, row.claimed_at = 1, clock.now()
        row.next_attempt_at = clock.now() + timedelta(minutes=5)
        session.add(row)
        session.commit()
    channel = ScriptedChannel()
    worker = worker_for(channel)
    assert await worker.drain() == 0  # another drain may be sending it right now
    task = asyncio.create_task(worker.run())  # a (re)start recovers the claim
    try:
        for _ in range(200):
            if all(row.status == "sent" for row in rows_by_id(engine).values()):
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert channel.delivered == [("1", "a")]
    assert rows_by_id(engine)[row_id].status == "sent"


async def test_run_sends_soon_after_wake(engine: Engine, clock: FixedClock) -> None:
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.05)
        add_rows(engine, clock, [("1", "hello")])
        worker.wake()
        for _ in range(300):
            if rows_by_id(engine) and all(r.status == "sent" for r in rows_by_id(engine).values()):
                break
            await asyncio.sleep(0.01)
        assert channel.delivered == [("1", "hello")]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


# --- through the fake Bot API server, with aiogram's real HTTP session ---------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN, hang_seconds=2.0)
    await server.start()
    yield server
    await server.stop()


async def deliver_all(engine: Engine, fake: FakeTelegram, expected: int) -> None:
    bot = make_bot(TOKEN, fake.base_url, timeout=0.5)
    worker = OutboxWorker(engine, {"telegram": TelegramChannel(bot)}, FAST, SystemClock())
    task = asyncio.create_task(worker.run())
    try:
        await fake.wait_sent(expected, wait_seconds=30)
        for _ in range(100):  # the last "sent" commit follows the HTTP answer
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


async def test_faults_injected_every_message_arrives_once_in_order(
    engine: Engine, fake: FakeTelegram
) -> None:
    clock = SystemClock()
    chats = ["101", "102", "103"]
    texts = [(chat, f"{chat}-{n}") for n in range(5) for chat in chats]
    with Session(engine) as session:
        session.add_all(
            OutboxMessage(channel="telegram", chat_id=c, text=t, next_attempt_at=clock.now())
            for c, t in texts
        )
        session.commit()
    fake.fail_next("sendMessage", 429, chat_id="101", retry_after=1)
    fake.fail_next("sendMessage", 500, chat_id="102", times=2)
    fake.fail_next("sendMessage", "timeout", chat_id="103")

    await deliver_all(engine, fake, len(texts))

    for chat in chats:
        assert [m.text for m in fake.sent_to(chat)] == [f"{chat}-{n}" for n in range(5)]
    assert len(fake.sent) == len(texts)
    assert not fake.faults
    rows = rows_by_id(engine).values()
    assert all(row.status == "sent" for row in rows)
    assert {row.external_message_id for row in rows if row.chat_id == "101"} == {
        str(m.message_id) for m in fake.sent_to("101")
    }


async def test_blocked_user_is_marked_unreachable_over_http(
    engine: Engine, fake: FakeTelegram
) -> None:
    clock = SystemClock()
    fake.block("77")
    with Session(engine) as session:
        session.add(
            OutboxMessage(channel="telegram", chat_id="77", text="hi", next_attempt_at=clock.now())
        )
        session.add(
            OutboxMessage(channel="telegram", chat_id="78", text="ok", next_attempt_at=clock.now())
        )
        session.commit()
    await deliver_all(engine, fake, 1)
    statuses = {row.chat_id: row.status for row in rows_by_id(engine).values()}
    assert statuses == {"77": "unreachable", "78": "sent"}
    assert "blocked" in (next(iter(rows_by_id(engine).values())).last_error or "")


async def test_rate_limits_of_the_fake_are_respected(engine: Engine, fake: FakeTelegram) -> None:
    settings = Settings(
        telegram=TelegramConfig(global_rate_per_second=20, per_chat_rate_per_second=5)
    )
    fake.limit(global_per_second=20, per_chat_per_second=5)
    clock = SystemClock()
    with Session(engine) as session:
        session.add_all(
            OutboxMessage(
                channel="telegram",
                chat_id=str(200 + n % 4),
                text=f"t{n}",
                next_attempt_at=clock.now(),
            )
            for n in range(30)
        )
        session.commit()
    bot = make_bot(TOKEN, fake.base_url)
    worker = OutboxWorker(engine, {"telegram": TelegramChannel(bot)}, settings, clock)
    try:
        for _ in range(50):  # a 429 (network jitter) is retried after retry_after
            await worker.drain()
            if len(fake.sent) == 30:
                break
            await asyncio.sleep(0.1)
    finally:
        worker.close()
        await bot.session.close()
    assert len(fake.sent) == 30
    assert fake.too_many_requests == 0  # the worker keeps to the platform's limits


async def test_a_chat_is_paced_with_a_margin_a_strict_server_never_refuses(
    engine: Engine, fake: FakeTelegram
) -> None:
    """Spaced at exactly 1/rate from the worker's side, jitter lands some sends closer than
    that at the platform; the worker keeps 10 % more, so a strict server refuses none."""
    settings = Settings(
        telegram=TelegramConfig(global_rate_per_second=1000, per_chat_rate_per_second=10)
    )
    fake.limit(global_per_second=None, per_chat_per_second=10, strict_per_chat=True)
    clock = SystemClock()
    with Session(engine) as session:
        session.add_all(
            OutboxMessage(
                channel="telegram", chat_id="300", text=f"t{n}", next_attempt_at=clock.now()
            )
            for n in range(12)
        )
        session.commit()
    bot = make_bot(TOKEN, fake.base_url)
    worker = OutboxWorker(engine, {"telegram": TelegramChannel(bot)}, settings, clock)
    try:
        for _ in range(60):
            await worker.drain()
            if len(fake.sent) == 12:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.close()
        await bot.session.close()
    assert [item.text for item in fake.sent] == [f"t{n}" for n in range(12)]
    assert fake.too_many_requests == 0
    gaps = [b.at - a.at for a, b in zip(fake.sent, fake.sent[1:], strict=False)]
    assert min(gaps) >= 0.1  # never inside the platform's window


class SlowChannel(ScriptedChannel):
    """Holds each send until released, so a test can stop the worker mid-send."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.sending.set()
        await self.release.wait()
        return await super().send(message)


async def test_stop_finishes_the_send_in_flight_and_claims_nothing_more(
    engine: Engine, clock: FixedClock
) -> None:
    channel = SlowChannel()
    first, second = add_rows(engine, clock, [("1", "a"), ("1", "b")])
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(channel.sending.wait(), 10)
    worker.stop()
    channel.release.set()
    await asyncio.wait_for(task, 10)  # run() returns by itself
    rows = rows_by_id(engine)
    assert rows[first].status == "sent"
    assert rows[second].status == "pending" and rows[second].attempts == 0
    assert rows[second].last_error is None  # not claimed: the next start sends it normally


# --- replies before broadcasts -------------------------------------------------------------

PACED = Settings(
    outbox=FAST.outbox,
    telegram=TelegramConfig(global_rate_per_second=40, per_chat_rate_per_second=1000),
)


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def add_reply(engine: Engine, clock: FixedClock, chat: str, text: str) -> int:
    with Session(engine, expire_on_commit=False) as session:
        row = OutboxMessage(
            channel="telegram",
            chat_id=chat,
            text=text,
            next_attempt_at=clock.now(),
            priority=OUTBOX_PRIORITY_REPLY,
        )
        session.add(row)
        session.commit()
        return row.id or 0


async def test_a_reply_enqueued_after_a_burst_of_reminders_is_sent_before_them(
    engine: Engine, clock: FixedClock
) -> None:
    """40 reminders to 40 chats, then one reply: at 40 msg/s the reply goes among the first
    few, not after all of them (a queue in id order would send it 41st)."""
    add_rows(engine, clock, [(f"r{n}", f"reminder {n}") for n in range(40)])
    add_reply(engine, clock, "official", "Hoàn thành. Đã ghi nhận.")
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, PACED, clock)
    try:
        assert await worker.drain() == 41
    finally:
        worker.close()
    position = channel.delivered.index(("official", "Hoàn thành. Đã ghi nhận."))
    assert position < 5, channel.delivered[: position + 1]
    assert len(channel.delivered) == 41


async def test_a_reply_written_during_a_drain_overtakes_the_backlog(
    engine: Engine, clock: FixedClock
) -> None:
    """The worker is already sending 80 reminders when the reply is written and it is woken:
    the reply is loaded at once and sent within a few messages, not after the backlog."""
    add_rows(engine, clock, [(f"r{n}", f"reminder {n}") for n in range(80)])
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, PACED, clock)
    task = asyncio.create_task(worker.run())
    try:
        await until(lambda: len(channel.delivered) >= 5)
        await asyncio.to_thread(add_reply, engine, clock, "official", "xong")
        sent_before = len(channel.delivered)
        worker.wake()
        await until(lambda: ("official", "xong") in channel.delivered)
        position = channel.delivered.index(("official", "xong"))
        assert position - sent_before < 10, (sent_before, position)
        assert len(channel.delivered) < 40  # most of the backlog is still waiting
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_reply_keeps_its_chats_order(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    """The reply goes first among chats, but never before what its own chat was sent first."""
    add_rows(engine, clock, [(f"r{n}", f"reminder {n}") for n in range(20)])
    add_rows(engine, clock, [("official", "your reminder")])
    add_rows(engine, clock, [(f"s{n}", f"reminder {n}") for n in range(20)])
    add_reply(engine, clock, "official", "your reply")
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, PACED, clock)
    try:
        await worker.drain()
    finally:
        worker.close()
    mine = [text for chat, text in channel.delivered if chat == "official"]
    assert mine == ["your reminder", "your reply"]
    assert channel.delivered.index(("official", "your reply")) < 10


async def test_claim_is_a_column_not_an_error_text(
    engine: Engine, clock: FixedClock, worker_for: Callable[[ScriptedChannel], OutboxWorker]
) -> None:
    """While a send is in flight the row carries ``claimed_at``; the outcome clears it."""
    (row_id,) = add_rows(engine, clock, [("1", "a")])
    seen: list[tuple[object, object]] = []

    class Peeking(ScriptedChannel):
        async def send(self, message: OutgoingMessage) -> SendResult:
            row = await asyncio.to_thread(rows_by_id, engine)
            seen.append((row[row_id].claimed_at, row[row_id].last_error))
            return await super().send(message)

    worker = worker_for(Peeking())
    await worker.drain()
    assert seen == [(clock.now(), None)]
    done = rows_by_id(engine)[row_id]
    assert (done.status, done.claimed_at, done.last_error) == ("sent", None, None)


def test_urgent_rows_of_several_chats_come_in_one_load_in_id_order(
    engine: Engine, clock: FixedClock
) -> None:
    """Replies in two chats: each comes with what its chat was sent before (in id order);
    a chat with only broadcasts is left for the batch."""
    from bot.outbox_store import OutboxStore

    (a_first,) = add_rows(engine, clock, [("a", "a reminder")])
    (other,) = add_rows(engine, clock, [("c", "c reminder")])
    (b_first,) = add_rows(engine, clock, [("b", "b reminder")])
    b_reply = add_reply(engine, clock, "b", "b reply")
    a_reply = add_reply(engine, clock, "a", "a reply")
    store = OutboxStore(engine, ["telegram"], Settings(), clock)
    rows = store.load_urgent(0, clock.now(), OUTBOX_PRIORITY_REPLY)
    assert [row.id for row in rows] == [a_first, b_first, b_reply, a_reply]
    assert other not in [row.id for row in rows]
    assert store.load_urgent(b_reply, clock.now(), OUTBOX_PRIORITY_REPLY)[0].id == a_reply
