"""The hot path through the database process: a reply applied there and its answer sent by
the outbox worker, whose claims and "sent" are written there too; the process imports no
platform library (its memory stays the ORM's and the conversation's)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import inbound_applier
from bot.config import Settings
from bot.dbprocess import DatabaseProcess
from bot.outbox import OutboxWorker
from handlers.types import Inbound
from kernel.clock import SystemClock
from storage.models import OutboxMessage, OutboxStatus
from tests.fakes.dbjobs import Tally
from tests.handlers.helpers import make_world
from tests.sqltrace import statements_run
from tests.test_outbox import FAST, ScriptedChannel
from tests.test_outbox_handover import LIVELY, delivered


async def test_a_reply_is_applied_and_sent_through_the_process(engine: Engine) -> None:
    clock = SystemClock()
    world = make_world(engine, clock.now())
    user = world.link("off1a")
    database = DatabaseProcess(engine.url.render_as_string(hide_password=False), LIVELY)
    channel = ScriptedChannel()
    worker = OutboxWorker(engine, {"telegram": channel}, FAST, clock, database=database)
    with statements_run(engine, lambda _sql: True) as here:
        await _converse(engine, LIVELY, database, worker, channel, user)
    assert here == []  # every statement ran in the process
    assert channel.delivered[0][0] == user and "#" in channel.delivered[0][1]
    with Session(engine) as session:
        row = session.exec(select(OutboxMessage)).one()
        assert row.status == OutboxStatus.SENT


async def _converse(
    engine: Engine,
    settings: Settings,
    database: DatabaseProcess,
    worker: OutboxWorker,
    channel: ScriptedChannel,
    user: str,
) -> None:
    clock = SystemClock()
    sending = asyncio.create_task(worker.run())
    try:
        apply = inbound_applier(engine, settings, clock, worker, database=database)
        ids = await apply(
            Inbound(
                channel="telegram",
                external_user_id=user,
                chat_id=user,
                update_key="1",
                received_at=datetime.now(UTC),
                message_id="m1",
                text="/nhiemvu",
            )
        )
        assert ids
        await delivered(channel, 1, seconds=10)
        tally = Tally(None, 0)
        assert not await database.run(tally.imported, "aiogram")
        assert await database.run(tally.imported, "sqlalchemy")
    finally:
        worker.stop()
        await asyncio.wait_for(sending, 10)
        database.close(wait=True)
