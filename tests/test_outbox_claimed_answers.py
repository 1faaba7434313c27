"""An answer claimed for the outbox worker in its own transaction (issue 11).

The answer first pending in its chat is claimed for the running worker by the statement that
asks whether its chat waits for anything (``storage.queue.first_in_chats``), so the worker
sends it on that claim: one transaction and one round trip to the database less per answer.
The claim is the worker's usual lease: a stop releases what it will not send, a crash leaves
it to the next start, and a worker that is not sending gets nothing claimed for it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import inbound_applier
from bot.channels.base import OutgoingMessage, SendResult
from bot.config import TelegramConfig
from bot.outbox import OutboxWorker
from bot.pipeline import apply_inbound
from kernel.clock import FixedClock
from storage import queue
from storage.models import OutboxMessage
from storage.queue import ClaimTerms, QueuedRow, add_outbox_rows, first_in_chats
from tests.handlers.helpers import World, make_world
from tests.test_outbox import FAST, ScriptedChannel, add_rows, rows_by_id
from tests.test_outbox_handover import LIVELY, delivered, inbound

# Telegram's own pace in a chat: a message a second (with the worker's margin).
PACED = FAST.model_copy(update={"telegram": TelegramConfig(per_chat_rate_per_second=1)})
UPDATES = itertools.count(1)  # each update its own key
TERMS = ClaimTerms("here:1:abc", timedelta(seconds=300), frozenset({"telegram"}))


def answered(
    world: World,
    user: str,
    terms: ClaimTerms,
    *,
    now: datetime | None = None,
    handover: Callable[[list[QueuedRow]], None] | None = None,
) -> tuple[list[int], list[QueuedRow]]:
    """``user``'s "/nhiemvu" applied with ``terms``, as papi-bot run applies it: the new
    rows' ids and the rows handed over (to ``handover`` when given)."""
    handed: list[QueuedRow] = []
    clock = FixedClock(world.now)
    ids = apply_inbound(
        world.engine,
        inbound(user, "/nhiemvu", f"u{next(UPDATES)}", clock),
        LIVELY,
        now or world.now,
        handover=handover or handed.extend,
        claim=terms,
    )
    assert ids
    return ids, handed


@asynccontextmanager
async def sending(worker: OutboxWorker) -> AsyncIterator[ClaimTerms]:
    """The worker running, its terms given; stopped after."""
    task = asyncio.create_task(worker.run())
    try:
        yield await claiming(worker)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 5)


def written(engine: Engine, clock: FixedClock, chats: list[tuple[str, str, str]]) -> list[int]:
    """Rows (channel, chat, text) written in one transaction, then ``first_in_chats`` with
    the claim: the ids handed over, claimed or not."""
    now = clock.now()
    with Session(engine) as session:
        rows = add_outbox_rows(
            session,
            [
                {"channel": channel, "chat_id": chat, "text": body, "next_attempt_at": now}
                for channel, chat, body in chats
            ],
        )
        handed = first_in_chats(session, rows, TERMS, now)
        session.commit()
    return [row.id if row.claimed else -row.id for row in handed]


def test_only_the_first_row_of_a_clear_chat_of_the_workers_channels_is_claimed(
    engine: Engine, clock: FixedClock
) -> None:
    add_rows(engine, clock, [("a", "older, pending")])
    ids = written(
        engine,
        clock,
        [
            ("telegram", "a", "a1"),  # behind an older row: neither handed nor claimed
            ("telegram", "b", "b1"),  # first: claimed
            ("telegram", "b", "b2"),  # handed after it, claimed when its turn comes
            ("zalo_bot", "c", "c1"),  # not a channel of this worker: left to the table
        ],
    )
    rows = rows_by_id(engine)
    by_text = {row.text: row for row in rows.values()}
    assert ids == [by_text["b1"].id, -(by_text["b2"].id or 0)]
    b1 = by_text["b1"]
    assert (b1.attempts, b1.claimed_by) == (1, TERMS.worker_id)
    assert b1.next_attempt_at == clock.now() + TERMS.lease  # the lease, as a worker's claim
    for text in ("a1", "b2", "c1"):
        assert (by_text[text].attempts, by_text[text].claimed_at) == (0, None), text


def test_the_claim_asks_the_partial_index_of_pending_rows(engine: Engine) -> None:
    statement = queue._CLAIM_IF_FIRST.statement.compile(dialect=engine.dialect)
    params = {"row_channel": "telegram", "row_chat": "1", "first": 9}
    params |= {"claim_at": None, "claim_by": "w", "lease_end": None}
    with engine.connect() as connection:
        values = statement.construct_params(params)
        positional = tuple(values[name] for name in statement.positiontup or ())
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", positional).all()
    assert "ix_outbox_pending_chat" in " ".join(str(row[-1]) for row in plan), plan


async def test_a_worker_not_sending_gets_nothing_claimed(engine: Engine, clock: FixedClock) -> None:
    """Not started yet (its start releases every claim of an earlier run), or stopping."""
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    worker = OutboxWorker(engine, {"telegram": ScriptedChannel()}, FAST, clock)
    assert worker.claims() is None
    ids = await inbound_applier(engine, LIVELY, clock, worker)(
        inbound(user, "/nhiemvu", "1", clock)
    )
    assert ids and rows_by_id(engine)[ids[0]].claimed_at is None
    async with sending(worker):
        assert worker.claims() is not None
        worker.stop()
        assert worker.claims() is None


async def test_a_stop_releases_an_answer_claimed_for_the_worker_and_not_sent(
    engine: Engine, clock: FixedClock
) -> None:
    """The answer's transaction began while the worker ran; it is handed over as the worker
    stops: the worker sends nothing more and lets the claim go, due again at once."""
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    async with sending(worker) as terms:
        ids, handed = answered(world, user, terms)
        assert [row.claimed for row in handed] == [True]
        assert rows_by_id(engine)[ids[0]].claimed_by == terms.worker_id
        worker.stop()
        worker.offer(handed)
    row = rows_by_id(engine)[ids[0]]
    assert channel.delivered == []
    assert (row.status, row.claimed_at, row.claimed_by) == ("pending", None, None)
    assert row.next_attempt_at <= clock.now()


async def test_an_answer_claimed_but_never_sent_goes_at_the_next_start(
    engine: Engine, clock: FixedClock
) -> None:
    """The bot died between the answer's commit and its send: the next start releases the
    claim (SQLite has one worker) and sends it."""
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    ids, handed = answered(world, user, TERMS)
    assert [row.claimed for row in handed] == [True]  # … and the process is gone
    channel = ScriptedChannel()
    async with sending(OutboxWorker(engine, {"telegram": channel}, FAST, clock)):
        await delivered(channel, 1)
    with Session(engine) as session:
        row = session.get_one(OutboxMessage, ids[0])
    assert (row.status, row.claimed_by) == ("sent", None)
    assert channel.delivered[0][0] == user


async def test_an_answer_claimed_while_its_chat_waits_for_its_slot_goes_in_that_slot(
    engine: Engine, clock: FixedClock
) -> None:
    """An official's second message a moment after the first answer: its answer is claimed
    (nothing of the chat is pending any more) but the chat's next slot is a second away. It
    waits for that slot in place; left to a later drain it would wait for its lease."""
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, PACED, clock)
    apply = inbound_applier(engine, LIVELY, clock, worker)
    async with sending(worker):
        await apply(inbound(user, "/nhiemvu", "1", clock))
        await delivered(channel, 1)
        for _ in range(300):  # its "sent" is written: nothing of the chat is pending
            if all(row.status == "sent" for row in rows_by_id(engine).values()):
                break
            await asyncio.sleep(0.01)
        ids = await apply(inbound(user, "/nhiemvu", "2", clock))
        assert ids and rows_by_id(engine)[ids[0]].claimed_by is not None
        await delivered(channel, 2, seconds=4.0)  # Telegram's chat slot: about a second
    assert rows_by_id(engine)[ids[0]].status == "sent"


class GatedChannel(ScriptedChannel):
    """Holds the send to chat ``slow`` until ``gate`` opens: the drain stays busy."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> SendResult:
        if message.chat_id == "slow":
            self.waiting.set()
            await self.gate.wait()
        return await super().send(message)


async def test_an_answer_read_from_the_table_before_its_hand_over_is_sent_once(
    engine: Engine, clock: FixedClock
) -> None:
    """The worker reads the table (woken by another writer) between the answer's commit and
    its hand-over, and its drain is still busy when the hand-over arrives: the row claimed
    for this worker is sent on that claim, once. Taken for another worker's send in flight,
    it held its chat until its lease ended (a bench run waited a minute for an answer)."""
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    channel = GatedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    try:
        async with sending(worker) as terms:
            await asyncio.sleep(0.1)  # the first drain (reading the table) is over
            ids, handed = answered(world, user, terms)
            add_rows(engine, clock, [("slow", "viết ở nơi khác")])
            worker.wake()  # the table is read: both rows
            await asyncio.wait_for(channel.waiting.wait(), 3)  # the drain is busy with "slow"
            await delivered(channel, 1)  # the answer went meanwhile, from the table
            worker.offer(handed)  # its hand-over arrives now, in the same drain
            assert channel.delivered[0][0] == user
            channel.gate.set()
            await delivered(channel, 2)
            await asyncio.sleep(0.2)
    finally:
        channel.gate.set()
    assert [chat for chat, _ in channel.delivered] == [user, "slow"]
    assert rows_by_id(engine)[ids[0]].status == "sent"


async def test_a_hand_over_after_the_drain_that_sent_its_row_is_dropped(
    engine: Engine, clock: FixedClock
) -> None:
    """The drain that took the answer from the table has ended when its hand-over comes: the
    hand-over is dropped, not sent again (a first version sent it twice)."""
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    async with sending(worker) as terms:
        await asyncio.sleep(0.1)  # the first drain (reading the table) is over
        ids, handed = answered(world, user, terms)
        worker.wake()  # a row written elsewhere: the table is read, the answer sent
        await delivered(channel, 1)
        await asyncio.sleep(0.2)  # that drain is over
        worker.offer(handed)
        await asyncio.sleep(0.3)
    assert len(channel.delivered) == 1
    row = rows_by_id(engine)[ids[0]]
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, None)


async def test_an_answer_whose_hand_over_never_came_goes_with_the_next_read(
    engine: Engine, clock: FixedClock
) -> None:
    """The hand-over was lost (the apply's caller was cancelled after the commit): the next
    read of the table finds the row claimed for this worker and sends it on that claim."""
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    async with sending(worker) as terms:
        ids, _ = answered(world, user, terms, handover=lambda rows: None)  # never offered
        worker.wake()
        await delivered(channel, 1)
    row = rows_by_id(engine)[ids[0]]
    assert (row.status, row.attempts) == ("sent", 1)  # one try: the writer's claim


async def claiming(worker: OutboxWorker) -> ClaimTerms:
    """The worker's terms, once it runs."""
    for _ in range(300):
        if (terms := worker.claims()) is not None:
            return terms
        await asyncio.sleep(0.01)
    raise AssertionError("the worker gives no terms")


async def test_an_answer_claimed_after_the_drain_began_is_sent_by_the_read_that_finds_it(
    engine: Engine, clock: FixedClock
) -> None:
    """The drain's moment was taken before the answer's (its read waited behind the answer's
    transaction): the row claimed for this worker is due all the same. Compared with that
    moment it looked scheduled for later, was passed over, and its hand-over then dropped:
    answers waited for the drain to end (0.3–1.2 s in the paired bench)."""
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    async with sending(worker) as terms:
        await asyncio.sleep(0.1)  # the first drain is over
        later = clock.now() + timedelta(seconds=1)  # the answer's moment, after the drain's
        _, handed = answered(world, user, terms, now=later)
        worker.wake()  # read at the drain's moment (the clock stands still)
        await delivered(channel, 1)
        worker.offer(handed)
        await asyncio.sleep(0.2)
    assert len(channel.delivered) == 1
