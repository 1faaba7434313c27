"""Group commit: claims and "sent" outcomes of the same moment share one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.base import OutgoingMessage, SendResult
from bot.outbox import OutboxWorker
from bot.outbox_batch import GroupCommit
from kernel.clock import FixedClock
from storage.models import OutboxMessage
from storage.outbox_rows import Claim, claim_rows
from tests.test_outbox import FAST, ScriptedChannel, add_rows, rows_by_id


class SlowChannel(ScriptedChannel):
    """Each send takes a moment, like an HTTP call: the chats' sends overlap."""

    async def send(self, message: OutgoingMessage) -> SendResult:
        await asyncio.sleep(0.02)
        return await super().send(message)


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    def committed(_conn: object) -> None:
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", committed)
    yield seen
    event.remove(engine, "before_cursor_execute", note)
    event.remove(engine, "commit", committed)


def transactions_with(statements: list[str], prefix: str) -> int:
    """How many committed transactions ran a statement starting with ``prefix``."""
    count, found = 0, False
    for statement in statements:
        if statement == "COMMIT":
            count, found = count + found, False
        elif statement.startswith(prefix):
            found = True
    return count


async def test_chats_served_at_once_share_their_claims_and_outcomes(
    engine: Engine, clock: FixedClock, statements: list[str]
) -> None:
    chats = [str(n) for n in range(30)]
    ids = add_rows(engine, clock, [(chat, f"to {chat}") for chat in chats])
    channel = SlowChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    try:
        assert await worker.drain() == 30
    finally:
        worker.close()

    assert sorted(chat for chat, _ in channel.delivered) == sorted(chats)  # each once
    rows = rows_by_id(engine)
    assert all(rows[i].status == "sent" and rows[i].claimed_at is None for i in ids)
    claims = transactions_with(statements, "UPDATE outboxmessage SET attempts")
    sent = transactions_with(statements, "UPDATE outboxmessage SET status")
    # One transaction per message each was the old way (30 + 30); all 30 chats' turns came
    # together, so their claims went in a handful of transactions, and so did the outcomes.
    assert 1 <= claims <= 5, statements
    assert 1 <= sent <= 10, statements
    # The 30 rows came in one read: a batch shorter than BATCH_SIZE was the last, so no
    # second, empty read of the queue follows it.
    reads = [s for s in statements if s.startswith("SELECT") and "outboxmessage.id > " in s]
    assert len(reads) == 1, reads


def test_a_claim_loses_to_a_row_changed_since_it_was_read(
    engine: Engine, clock: FixedClock
) -> None:
    first, second, third = add_rows(engine, clock, [("1", "a"), ("2", "b"), ("3", "c")])
    lease = timedelta(seconds=60)
    with Session(engine) as session:
        moved = session.get(OutboxMessage, third)
        assert moved is not None
        moved.chat_id = "9"  # re-addressed meanwhile (another channel of its official)
        session.add(moved)
        session.commit()
        taken = claim_rows(
            session,
            [
                Claim(first, 0, "telegram", "1"),
                Claim(second, 5, "telegram", "2"),  # stale version: another try happened
                Claim(third, 0, "telegram", "3"),
            ],
            clock.now(),
            lease,
            worker_id="w1",
        )
        session.commit()
        assert taken == {first}
        # Claimed once, it cannot be claimed again with the version read before.
        again = claim_rows(session, [Claim(first, 0, "telegram", "1")], clock.now(), lease)
        session.commit()
    assert again == set()
    rows = rows_by_id(engine)
    assert rows[first].attempts == 1 and rows[first].claimed_by == "w1"
    assert rows[second].attempts == 0 and rows[second].claimed_at is None


async def test_one_failing_item_fails_alone() -> None:
    jobs: list[list[int]] = []

    def job(items: list[int]) -> list[int]:
        jobs.append(items)
        if 3 in items:
            raise ValueError("row 3 is bad")
        return [item * 10 for item in items]

    async def submit(func: object, items: list[int]) -> list[int]:
        await asyncio.sleep(0)
        return job(items)

    batcher: GroupCommit[int, int] = GroupCommit(job, submit)
    results = await asyncio.gather(*(batcher(n) for n in range(1, 6)), return_exceptions=True)

    assert results[:2] == [10, 20] and results[3:] == [40, 50]
    assert isinstance(results[2], ValueError)
    assert jobs[0] == [1, 2, 3, 4, 5]  # first together, then one by one after the failure
    assert [1] in jobs and [5] in jobs


async def test_an_idle_batcher_runs_a_lone_item_at_once() -> None:
    calls: list[list[str]] = []

    async def submit(func: object, items: list[str]) -> list[str]:
        calls.append(items)
        return [item.upper() for item in items]

    batcher: GroupCommit[str, str] = GroupCommit(lambda items: items, submit)
    assert await batcher("a") == "A"
    assert await batcher("b") == "B"
    assert calls == [["a"], ["b"]]


async def test_an_item_whose_caller_left_before_its_job_is_left_out() -> None:
    """Also in the one-by-one retry after a failed batch: a drain that gave up takes nothing
    with it (a claim taken for it would hold its chat until the lease ends)."""
    jobs: list[list[int]] = []
    gate = asyncio.Event()

    async def submit(func: object, items: list[int]) -> list[int]:
        jobs.append(items)
        await gate.wait()
        if len(items) > 1:
            raise ConnectionError("the database went away")
        return [item * 10 for item in items]

    async def orphaned(_answered: list[tuple[int, int]]) -> None:
        raise AssertionError("nothing was answered after its caller left")

    batcher: GroupCommit[int, int] = GroupCommit(lambda items: items, submit, orphaned)
    callers = [asyncio.ensure_future(batcher(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0.01)  # the batch [1, 2, 3] is in flight
    callers[1].cancel()
    gate.set()
    assert await callers[0] == 10 and await callers[2] == 30
    assert jobs == [[1, 2, 3], [1], [3]]  # 2 left before its own retry


async def test_without_orphaned_every_item_is_written_whoever_waits() -> None:
    """A "sent" outcome: the message went out, so it is recorded even if its chat's drain
    gave up meanwhile (else it would be sent again)."""
    jobs: list[list[int]] = []
    gate = asyncio.Event()

    async def submit(func: object, items: list[int]) -> list[None]:
        jobs.append(items)
        await gate.wait()
        return [None] * len(items)

    batcher: GroupCommit[int, None] = GroupCommit(lambda items: [None] * len(items), submit)
    first = asyncio.ensure_future(batcher(1))
    await asyncio.sleep(0.01)  # [1] in flight; 2 and 3 wait for the next job
    later = [asyncio.ensure_future(batcher(n)) for n in (2, 3)]
    await asyncio.sleep(0)
    later[0].cancel()
    gate.set()
    await first
    await later[1]
    assert jobs == [[1], [2, 3]]


async def test_an_answer_nobody_waits_for_any_more_goes_to_orphaned() -> None:
    gate = asyncio.Event()
    orphans: list[list[tuple[int, bool]]] = []

    async def submit(func: object, items: list[int]) -> list[bool]:
        await gate.wait()
        return [item % 2 == 1 for item in items]

    async def orphaned(answered: list[tuple[int, bool]]) -> None:
        orphans.append(answered)

    batcher: GroupCommit[int, bool] = GroupCommit(
        lambda items: [True] * len(items), submit, orphaned
    )
    callers = [asyncio.ensure_future(batcher(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0.01)
    callers[0].cancel()
    callers[1].cancel()
    gate.set()
    assert await callers[2] is True
    await asyncio.sleep(0.01)
    assert orphans == [[(1, True), (2, False)]]
