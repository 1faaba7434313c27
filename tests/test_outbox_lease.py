"""A claim is a lease ([outbox] claim_lease_seconds): it must start when the row's HTTP call
starts, not while the row waits for its turn (the channel's pace, a send slot). Found by the
chaos test (tests/e2e/test_postgres_chaos.py): a worker used to claim every chat's next row
at once and then wait; with a backlog larger than the lease at the channel's rate (Zalo's
10 messages/s: 3,000 chats outlast the 5-minute lease), another worker took the expired
leases and both sent the same rows.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.config import OutboxConfig, Settings, TelegramConfig
from bot.outbox import OutboxWorker
from kernel.clock import FixedClock
from tests.test_outbox import FAST, ScriptedChannel, add_rows, rows_by_id

LEASE = 45.0
# One message every 2 s on the channel: the second chat's row waits for its turn.
SLOW = Settings(
    outbox=OutboxConfig(claim_lease_seconds=LEASE),
    telegram=TelegramConfig(global_rate_per_second=0.5, per_chat_rate_per_second=1000),
)
QUICK = FAST.model_copy(update={"outbox": OutboxConfig(claim_lease_seconds=LEASE)})


async def wait_until(condition: object, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


async def test_a_row_waiting_for_its_turn_holds_no_lease_another_worker_could_take(
    engine: Engine, clock: FixedClock
) -> None:
    add_rows(engine, clock, [("1", "a"), ("2", "b")])
    slow_channel, quick_channel = ScriptedChannel(), ScriptedChannel()
    slow = OutboxWorker(engine, {"telegram": slow_channel}, SLOW, clock)
    quick = OutboxWorker(engine, {"telegram": quick_channel}, QUICK, clock)
    try:
        draining = asyncio.create_task(slow.drain())
        await wait_until(lambda: slow_channel.delivered)  # "a" went; "b" waits ~2 s its turn
        await asyncio.sleep(0.2)  # the slow worker's database thread has done what it does now
        # Longer than a lease goes by while "b" waits (as a backlog at the channel's rate does):
        clock.advance(timedelta(seconds=LEASE + 1))
        await quick.drain()  # another worker: "b" is due and nobody's send is in flight
        await draining
    finally:
        slow.close()
        quick.close()
    delivered = slow_channel.delivered + quick_channel.delivered
    assert sorted(delivered) == [("1", "a"), ("2", "b")]  # "b" once, not twice
    assert all(row.status == "sent" for row in rows_by_id(engine).values())
