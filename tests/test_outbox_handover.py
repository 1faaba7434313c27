"""The answer to an inbound message, handed to the outbox worker as written (issue 11).

When nothing of its chat is pending before it (``storage.queue.first_in_chats``, asked in the
answer's own transaction, which also claims it for the running worker) the worker sends it
without reading the outbox back and without a claim of its own; otherwise it is read with
what waits before it, and sent after it. Rows of other writers are still read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

import bot.outbox
from bot.app import inbound_applier
from bot.config import FloodConfig
from bot.outbox import OutboxWorker
from handlers.types import Inbound
from kernel.clock import FixedClock
from storage import queue
from storage.models import OutboxMessage
from storage.queue import add_outbox_rows, first_in_chats
from tests.handlers.helpers import World, make_world
from tests.sqltrace import statements_run
from tests.test_outbox import FAST, ScriptedChannel, add_rows

# An official answering quickly: no flood guard in the way (a held message has no answer).
LIVELY = FAST.model_copy(update={"flood": FloodConfig(messages_per_minute=1000)})
Send = Callable[[str, str], Awaitable[list[int] | None]]


def outbox_reads(engine: Engine) -> AbstractContextManager[list[str]]:
    """The SELECTs of the outbox table run meanwhile (their SQL)."""
    return statements_run(
        engine,
        lambda sql: sql.lstrip().upper().startswith("SELECT") and "FROM outboxmessage" in sql,
    )


def outbox_writes(engine: Engine) -> AbstractContextManager[list[str]]:
    """The statements writing the outbox table run meanwhile, and the commits."""
    return statements_run(
        engine,
        lambda sql: sql.lstrip().upper().startswith(("INSERT INTO OUTBOXMESSAGE", "UPDATE OUTBOX")),
    )


def inbound(user: str, text: str, key: str, clock: FixedClock) -> Inbound:
    """``user``'s message ``text`` in their own Telegram chat, update ``key``."""
    return Inbound(
        channel="telegram",
        external_user_id=user,
        chat_id=user,
        update_key=key,
        received_at=clock.now(),
        message_id=f"m{key}",
        text=text,
    )


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> World:
    return make_world(engine, clock.now())


@pytest.fixture
def channel() -> ScriptedChannel:
    return ScriptedChannel()


@pytest.fixture
async def running(
    engine: Engine, clock: FixedClock, channel: ScriptedChannel
) -> AsyncIterator[OutboxWorker]:
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    task = asyncio.create_task(worker.run())
    yield worker
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=5)
    assert done, "the worker did not stop when cancelled"
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.fixture
def send(engine: Engine, clock: FixedClock, running: OutboxWorker) -> Send:
    apply = inbound_applier(engine, LIVELY, clock, running)
    count = iter(range(1, 10_000))

    async def send(user: str, message: str) -> list[int] | None:
        return await apply(inbound(user, message, str(next(count)), clock))

    return send


async def delivered(channel: ScriptedChannel, count: int, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if len(channel.delivered) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(channel.delivered)} of {count} delivered: {channel.delivered}")


async def chatting(world: World, send: Send, channel: ScriptedChannel) -> str:
    """Official off1a's chat, after a first answer: the worker's first drain (which reads
    the table) is over."""
    user = world.link("off1a")
    await send(user, "/nhiemvu")
    await delivered(channel, 1)
    return user


async def test_an_answer_first_in_its_chat_is_sent_without_reading_the_outbox(
    world: World, channel: ScriptedChannel, send: Send
) -> None:
    user = await chatting(world, send, channel)
    number = world.assignments_of("off1a")[0]
    with outbox_reads(world.engine) as reads, outbox_writes(world.engine) as writes:
        ids = await send(user, f"{number} 50%")
        await delivered(channel, 2)
        await recorded(writes, 3)
    assert ids and len(ids) == 1
    assert "50%" in channel.delivered[-1][1]
    assert reads == []  # neither read back nor claimed by the worker
    # written; claimed in the answer's own transaction, as the first pending of its chat;
    # marked sent. No claim of the worker's own between the last two.
    assert [sql.split()[0] for sql in writes] == ["INSERT", "UPDATE", "UPDATE"], writes
    assert "claimed_by" in writes[1] and "NOT (EXISTS" in writes[1], writes
    assert "status" in writes[2] and "sent_at" in writes[2], writes
    assert world.assignment(number).percent == 50
    with Session(world.engine) as session:
        row = session.get_one(OutboxMessage, ids[0])
    assert (row.status, row.attempts, row.claimed_at, row.claimed_by) == ("sent", 1, None, None)


async def recorded(writes: list[str], count: int, seconds: float = 3.0) -> None:
    """Until ``count`` statements were seen (the "sent" comes just after the delivery)."""
    for _ in range(int(seconds / 0.01)):
        if len(writes) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(writes)} of {count} statements: {writes}")


async def test_an_answer_behind_an_earlier_row_of_its_chat_goes_after_it(
    engine: Engine,
    clock: FixedClock,
    world: World,
    channel: ScriptedChannel,
    send: Send,
) -> None:
    user = await chatting(world, send, channel)
    number = world.assignments_of("off1a")[0]
    add_rows(engine, clock, [(user, "nhắc việc viết trước")])  # no wake: written elsewhere
    await send(user, f"{number} 50%")
    await delivered(channel, 3)
    assert channel.delivered[1] == (user, "nhắc việc viết trước")
    assert "50%" in channel.delivered[2][1]


async def test_rows_written_elsewhere_are_read_while_answers_keep_being_handed_over(
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    clock: FixedClock,
    world: World,
    channel: ScriptedChannel,
    send: Send,
) -> None:
    """Another process (the CLI) writes rows and cannot wake this worker: the worker reads
    the table at least every MAX_IDLE_SECONDS, even when hand-overs keep waking it sooner."""
    monkeypatch.setattr(bot.outbox, "MAX_IDLE_SECONDS", 0.3)
    user, other = await chatting(world, send, channel), world.link("off1b")
    add_rows(engine, clock, [(other, "từ dòng lệnh")])  # no wake
    for _ in range(40):  # an answer every 50 ms: the worker never sleeps 0.3 s
        await send(user, "/nhiemvu")
        if (other, "từ dòng lệnh") in channel.delivered:
            break
        await asyncio.sleep(0.05)
    assert (other, "từ dòng lệnh") in channel.delivered


@pytest.mark.parametrize("turns", range(5))
async def test_a_worker_cancelled_just_as_it_is_woken_stops(
    engine: Engine, clock: FixedClock, channel: ScriptedChannel, turns: int
) -> None:
    """Hand-overs wake the worker often; a stop (cancel) landing on a wake-up must not be
    lost (``asyncio.wait_for`` on Python 3.11 swallows it when both happen at once)."""
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.3)  # the first drain is over: asleep until woken
    worker.wake()
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=5)
    assert done, f"the worker did not stop ({turns} turns between wake and cancel)"


def test_first_in_chats_leaves_out_the_chats_with_an_earlier_pending_row(
    engine: Engine, clock: FixedClock
) -> None:
    waiting = add_rows(engine, clock, [("a", "older, pending")])
    sent = add_rows(engine, clock, [("b", "older, sent")])
    with Session(engine) as session:
        session.get_one(OutboxMessage, sent[0]).status = "sent"
        session.commit()
    now = clock.now()
    with Session(engine) as session:
        rows = add_outbox_rows(
            session,
            [
                {"channel": "telegram", "chat_id": chat, "text": body, "next_attempt_at": now}
                for chat, body in (("a", "a1"), ("b", "b1"), ("b", "b2"), ("c", "c1"))
            ],
        )
        first = first_in_chats(session, rows)
        session.commit()
    assert [(row.chat_id, row.text) for row in first] == [("b", "b1"), ("b", "b2"), ("c", "c1")]
    assert waiting  # chat "a" keeps its order: its answer is read behind the older row


def test_the_check_reads_the_partial_index_of_pending_rows(engine: Engine) -> None:
    """A chat's thousands of sent rows are not walked: SQLite answers from the index of the
    pending ones (the statement says ``status = 'pending'`` as the index does)."""
    statement = queue._EARLIER_PENDING.statement.compile(dialect=engine.dialect)
    params = {"channel": "telegram", "chat_id": "1", "first": 9}
    with engine.connect() as connection:
        values = statement.construct_params(params)
        positional = tuple(values[name] for name in statement.positiontup or ())
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", positional).all()
    assert "ix_outbox_pending_chat" in " ".join(str(row[-1]) for row in plan), plan
