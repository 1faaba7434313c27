"""A drain the database fails under (a lost database process, a locked file) lets each chat
finish the message it is sending and records it sent: cancelling that send would leave a
message the official may already have, claimed and sent again later."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.outbox import OutboxWorker
from kernel.clock import FixedClock
from tests.test_outbox import FAST, SlowChannel, add_rows, rows_by_id, until


async def test_the_send_in_flight_finishes_and_is_recorded_once(
    engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = SlowChannel()
    first, second = add_rows(engine, clock, [("1", "a"), ("1", "b")])
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock)
    store = worker._store
    reads = store.load_urgent

    def broken(*args: Any) -> Any:
        monkeypatch.setattr(store, "load_urgent", reads)  # once: the next drain reads again
        raise OperationalError("SELECT …", {}, Exception("database is locked"))

    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(channel.sending.wait(), 10)  # "a" is on its way
        monkeypatch.setattr(store, "load_urgent", broken)
        worker.wake()  # the drain reads the table for new replies: the read fails
        await asyncio.sleep(0.1)
        channel.release.set()
        await until(lambda: rows_by_id(engine)[second].status == "sent")
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)
    rows = rows_by_id(engine)
    assert rows[first].status == "sent" and rows[first].claimed_at is None
    assert channel.delivered == [("1", "a"), ("1", "b")]  # each once, in order
