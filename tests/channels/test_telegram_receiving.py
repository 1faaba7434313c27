"""Receiving on Telegram: polling never loses an update; the webhook checks its secret."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.app import inbound_applier
from bot.attempts import LIMIT
from bot.channels.telegram import TelegramChannel, TelegramReceiver, make_bot
from bot.config import Settings
from bot.dbthreads import DatabaseLost
from bot.outbox import OutboxWorker
from handlers.types import Inbound
from kernel.clock import FixedClock
from storage.models import OutboxMessage, ProcessedUpdate
from tests.fakes.fake_telegram import FakeTelegram

TOKEN = "555111:RECEIVING-token-never-logged"
SECRET = "hook-secret-123"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


def count(engine: Engine, model: type[ProcessedUpdate] | type[OutboxMessage]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


async def test_polling_confirms_an_update_only_after_it_was_applied(
    fake: FakeTelegram, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    for text in ("một", "hai", "ba"):
        await fake.inject_message(11, text)
    applied: list[tuple[str, int]] = []  # (text, offset confirmed to the server at that time)
    failed_once = False
    stop = asyncio.Event()

    async def apply(inbound: Inbound) -> None:
        nonlocal failed_once
        if inbound.text == "hai" and not failed_once:
            failed_once = True
            raise RuntimeError("database is down")  # as if the process died here
        applied.append((inbound.text or "", fake.confirmed_offset))
        if len(applied) == 3:
            stop.set()

    bot = make_bot(TOKEN, fake.base_url, timeout=5)
    receiver = TelegramReceiver(bot, apply, clock)
    try:
        await asyncio.wait_for(receiver.poll(poll_seconds=1, stop=stop), 30)
    finally:
        await bot.session.close()
    assert [text for text, _offset in applied] == ["một", "hai", "ba"]
    # When "hai" (update 2) was finally applied, the server still held it unconfirmed.
    assert applied[1][1] <= 2
    assert TOKEN not in caplog.text


def _message(update_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1750000000,
            "chat": {"id": 12, "type": "private"},
            "from": {"id": 12, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


async def test_webhook_secret_is_required_and_redelivery_changes_nothing(
    engine: Engine, clock: FixedClock, fake: FakeTelegram
) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    settings = Settings()
    bot = make_bot(TOKEN, fake.base_url, timeout=5)
    worker = OutboxWorker(engine, {"telegram": TelegramChannel(bot)}, settings, clock)
    receiver = TelegramReceiver(bot, inbound_applier(engine, settings, clock, worker), clock)
    client = TestClient(TestServer(receiver.webhook_app(SECRET), host="127.0.0.1"))
    await client.start_server()
    update = _message(900, "xin chào")
    try:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            response = await client.post("/telegram/webhook", json=update, headers=headers)
            assert response.status == 401
        assert count(engine, ProcessedUpdate) == 0 and count(engine, OutboxMessage) == 0

        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for _ in range(2):  # Telegram retries a webhook call it thinks failed
            response = await client.post("/telegram/webhook", json=update, headers=good)
            assert response.status == 200
        assert count(engine, ProcessedUpdate) == 1 and count(engine, OutboxMessage) == 1
        assert await worker.drain() == 1
        assert len(fake.sent_to(12)) == 1
    finally:
        await client.close()
        worker.close()
        await bot.session.close()


async def test_the_webhook_gives_up_an_update_of_its_own_but_never_one_the_database_fails(
    clock: FixedClock, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram retries a webhook call answered 500, for as long as it keeps failing: an
    update that fails for a reason of its own gets ``LIMIT`` calls, then is answered 200,
    recorded as processed (a redelivery is then a no-op) and logged without its text; one
    the database fails is answered 500 every time and never recorded, so it is not lost."""
    from aiohttp.test_utils import TestClient, TestServer

    recorded: list[str] = []
    tries: list[str] = []

    async def apply(inbound: Inbound) -> None:
        tries.append(inbound.text or "")
        if inbound.text == "poison 0912345678":
            raise ValueError(f"cannot store {inbound.text}")
        raise DatabaseLost("the database process died")

    async def record(key: str) -> None:
        recorded.append(key)

    bot = make_bot(TOKEN, fake.base_url, timeout=5)
    receiver = TelegramReceiver(bot, apply, clock, record=record)
    client = TestClient(TestServer(receiver.webhook_app(SECRET), host="127.0.0.1"))
    await client.start_server()
    good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        poison = [
            (await client.post("/telegram/webhook", json=_message(7, text), headers=good)).status
            for text in ["poison 0912345678"] * LIMIT
        ]
        away = [
            (await client.post("/telegram/webhook", json=_message(8, "xong"), headers=good)).status
            for _ in range(2 * LIMIT)
        ]
    finally:
        await client.close()
        await bot.session.close()
    assert poison == [500] * (LIMIT - 1) + [200]
    assert away == [500] * (2 * LIMIT)
    assert tries.count("xong") == 2 * LIMIT
    assert len(recorded) == 1 and recorded[0].endswith(":7")  # the poison's own key only
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "ValueError" in errors[0].getMessage()
    assert "0912345678" not in caplog.text and "poison" not in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_webhook_registers_and_receives(fake: FakeTelegram, clock: FixedClock) -> None:
    port = _free_port()
    received: list[Inbound] = []
    got = asyncio.Event()

    async def apply(inbound: Inbound) -> None:
        received.append(inbound)
        got.set()

    bot = make_bot(TOKEN, fake.base_url, timeout=5)
    receiver = TelegramReceiver(bot, apply, clock)
    url = f"http://127.0.0.1:{port}/hook/telegram"
    task = asyncio.create_task(
        receiver.serve_webhook(url=url, host="127.0.0.1", port=port, secret=SECRET)
    )
    try:
        for _ in range(500):
            if fake.webhook is not None:
                break
            await asyncio.sleep(0.01)
        assert fake.webhook == {"url": url, "secret_token": SECRET}
        await fake.inject_message(13, "/start ABCD2345")
        await asyncio.wait_for(got.wait(), 10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bot.session.close()
    assert [(i.text, i.chat_id) for i in received] == [("/start ABCD2345", "13")]
    assert fake.updates == []  # answered 200: Telegram drops it
