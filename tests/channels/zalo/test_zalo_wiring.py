"""The Zalo channels as ``papi-bot run`` starts them: the durable inbox, its worker, the
shared webhook server, polling for development, and the refusals at start."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.attempts import LIMIT
from bot.channels.base import StartupError
from bot.channels.kind import ChannelDeps
from bot.channels.webhook_hub import WebhookHub
from bot.channels.zalo_run import bot_runtime, oa_runtime
from bot.channels.zalo_run.inbox import Inbox
from bot.config import Settings
from bot.dbthreads import DatabaseLost
from handlers.types import Inbound
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.inbox import InboxUpdate, mark_processed, pending_updates, store_update
from tests.channels.zalo.conftest import BOT_TOKEN
from tests.fakes.fake_zalo_bot import FakeZaloBot
from tests.fakes.fake_zalo_oa import FakeZaloOA

SECRET = "wiring-secret-1234"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def zalo_settings(fake: FakeZaloBot, port: int, **zalo: Any) -> Settings:
    base = Settings()
    config = base.zalo.model_copy(
        update={
            "api_base": fake.base_url,
            "webhook_port": port,
            "webhook_base_url": f"http://127.0.0.1:{port}",
            **zalo,
        }
    )
    secrets = base.secrets.model_copy(
        update={"zalo_bot_token": SecretStr(BOT_TOKEN), "zalo_webhook_secret": SecretStr(SECRET)}
    )
    return base.model_copy(update={"zalo": config, "secrets": secrets})


class Applied:
    def __init__(self) -> None:
        self.inbounds: list[Inbound] = []

    async def __call__(self, inbound: Inbound) -> None:
        self.inbounds.append(inbound)


def rows(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(InboxUpdate)).one())


# --- storage/inbox.py ------------------------------------------------------------------------


def test_an_update_is_stored_once_per_channel_and_key(engine: Engine, clock: FixedClock) -> None:
    with session_scope(engine) as session:
        assert store_update(session, "zalo", "m1", {"a": 1}, clock.now())
        assert not store_update(session, "zalo", "m1", {"a": 2}, clock.now())
        assert store_update(session, "zalo_oa", "m1", {"a": 3}, clock.now())
    with session_scope(engine) as session:
        (row,) = pending_updates(session, "zalo")
        assert row.body == {"a": 1}
        mark_processed(session, row.id, clock.now())
    with session_scope(engine) as session:
        assert pending_updates(session, "zalo") == []
        assert [r.body for r in pending_updates(session, "zalo_oa")] == [{"a": 3}]


async def test_the_worker_applies_what_a_previous_process_stored(
    engine: Engine, clock: FixedClock
) -> None:
    """A crash after the 200: the row is there, unprocessed; the next worker applies it, and
    one update that fails to process does not block the next for good: after ``LIMIT``
    tries it is marked and skipped."""
    with session_scope(engine) as session:
        store_update(session, "zalo", "bad", {"n": 0}, clock.now())
        store_update(session, "zalo", "good", {"n": 1}, clock.now())
    seen: list[int] = []
    stop = asyncio.Event()

    async def process(event: dict[str, Any]) -> None:
        if event["n"] == 0:
            raise ValueError("boom")
        seen.append(event["n"])
        stop.set()

    inbox = Inbox(engine, "zalo", lambda event: str(event["n"]), clock, retry_seconds=0.01)
    await asyncio.wait_for(inbox.run(process, stop), 10)
    assert seen == [1]
    with session_scope(engine) as session:
        assert pending_updates(session, "zalo") == []


async def test_an_update_the_database_fails_is_kept_and_applied_in_order_later(
    engine: Engine, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """It used to be marked processed at once: when the database process died mid-job, the
    official's reply was lost. Now it waits, with every later row, until it goes through."""
    with session_scope(engine) as session:
        store_update(session, "zalo", "first", {"n": 0, "text": "xong 0912345678"}, clock.now())
        store_update(session, "zalo", "second", {"n": 1}, clock.now())
    tries: list[int] = []
    stop = asyncio.Event()

    async def process(event: dict[str, Any]) -> None:
        tries.append(event["n"])
        if tries.count(0) <= 2 * LIMIT:  # the database is away for a while
            raise DatabaseLost("the database process died")
        if event["n"] == 1:
            stop.set()

    inbox = Inbox(engine, "zalo", lambda event: str(event["n"]), clock, retry_seconds=0.001)
    await asyncio.wait_for(inbox.run(process, stop), 10)
    assert tries == [0] * (2 * LIMIT + 1) + [1]  # never given up, and "second" never first
    with session_scope(engine) as session:
        assert pending_updates(session, "zalo") == []
    assert "0912345678" not in caplog.text


# --- the webhook server -----------------------------------------------------------------------


async def test_two_channels_cannot_share_a_webhook_path() -> None:
    hub = WebhookHub("127.0.0.1", free_port())

    async def handler(request: Any) -> Any:
        raise AssertionError("not called")

    try:
        await hub.add("/zalo/webhook", handler)
        with pytest.raises(StartupError, match="/zalo/webhook"):
            await hub.add("/zalo/webhook", handler)
    finally:
        await hub.stop()


async def test_a_busy_webhook_port_stops_the_start_clearly() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        hub = WebhookHub("127.0.0.1", int(busy.getsockname()[1]))

        async def handler(request: Any) -> Any:
            raise AssertionError("not called")

        with pytest.raises(StartupError, match="cannot listen for webhooks"):
            await hub.add("/zalo/webhook", handler)


# --- Zalo Bot: start, webhook, polling --------------------------------------------------------


async def test_webhook_mode_stores_before_the_200_then_applies(
    engine: Engine, clock: FixedClock, fake_bot: FakeZaloBot
) -> None:
    port = free_port()
    applied, stop = Applied(), asyncio.Event()
    hub = WebhookHub("127.0.0.1", port)
    deps = ChannelDeps(zalo_settings(fake_bot, port), clock, applied, engine=engine, hub=hub)
    runtime = await bot_runtime.start(deps)
    receiving = asyncio.create_task(runtime.receive(stop))
    try:
        assert fake_bot.webhook == {
            "url": f"http://127.0.0.1:{port}/zalo/webhook",
            "secret_token": SECRET,
        }
        key = await fake_bot.inject_message("u1", "xin chào")
        assert fake_bot.deliveries == [200] and rows(engine) == 1  # stored by the 200
        for _ in range(500):
            if applied.inbounds:
                break
            await asyncio.sleep(0.01)
        assert [(i.channel, i.update_key, i.text) for i in applied.inbounds] == [
            ("zalo", key, "xin chào")
        ]
        # a wrong secret: refused, nothing stored
        async with (
            ClientSession() as client,
            client.post(
                f"http://127.0.0.1:{port}/zalo/webhook",
                json={"event_name": "message.text.received", "message": {}},
                headers={"X-Bot-Api-Secret-Token": "wrong-secret-99"},
            ) as response,
        ):
            assert response.status == 403
        assert rows(engine) == 1
    finally:
        stop.set()
        await asyncio.wait_for(receiving, 10)
        await hub.stop()
        await runtime.close()


async def test_an_unsupported_message_is_answered_please_type_text(
    engine: Engine, clock: FixedClock, fake_bot: FakeZaloBot
) -> None:
    port = free_port()
    hub = WebhookHub("127.0.0.1", port)
    deps = ChannelDeps(zalo_settings(fake_bot, port), clock, Applied(), engine=engine, hub=hub)
    runtime = await bot_runtime.start(deps)
    stop = asyncio.Event()
    receiving = asyncio.create_task(runtime.receive(stop))
    try:
        await fake_bot.inject_unsupported("u2")
        (answer,) = await fake_bot.wait_sent(1)
        assert answer.chat_id == "u2" and "bằng chữ" in (answer.text or "")
    finally:
        stop.set()
        await asyncio.wait_for(receiving, 10)
        await hub.stop()
        await runtime.close()


async def test_webhook_mode_without_its_address_or_secret_refuses_before_calling_zalo(
    engine: Engine, clock: FixedClock, fake_bot: FakeZaloBot
) -> None:
    settings = zalo_settings(fake_bot, free_port(), webhook_base_url="")
    with pytest.raises(StartupError, match="webhook_base_url"):
        await bot_runtime.start(ChannelDeps(settings, clock, Applied(), engine=engine))
    no_secret = settings.model_copy(
        update={
            "zalo": settings.zalo.model_copy(update={"webhook_base_url": "https://x.example"}),
            "secrets": settings.secrets.model_copy(update={"zalo_webhook_secret": None}),
        }
    )
    with pytest.raises(StartupError, match="ZALO_WEBHOOK_SECRET"):
        await bot_runtime.start(ChannelDeps(no_secret, clock, Applied(), engine=engine))
    assert fake_bot.calls == []


async def test_a_wrong_token_stops_the_start(
    engine: Engine, clock: FixedClock, fake_bot: FakeZaloBot
) -> None:
    fake_bot.fail_next("getMe", 401)
    settings = zalo_settings(fake_bot, free_port(), mode="polling")
    with pytest.raises(StartupError, match="refused ZALO_BOT_TOKEN") as raised:
        await bot_runtime.start(ChannelDeps(settings, clock, Applied(), engine=engine))
    assert BOT_TOKEN not in str(raised.value)


async def test_polling_refuses_while_a_webhook_is_set(
    engine: Engine, clock: FixedClock, fake_bot: FakeZaloBot
) -> None:
    fake_bot.webhook = {"url": "https://elsewhere.example/zalo", "secret_token": SECRET}
    settings = zalo_settings(fake_bot, free_port(), mode="polling")
    runtime = await bot_runtime.start(ChannelDeps(settings, clock, Applied(), engine=engine))
    try:
        with pytest.raises(StartupError, match="webhook is set"):
            await asyncio.wait_for(runtime.receive(asyncio.Event()), 10)
        assert fake_bot.webhook is not None  # never deleted for you
    finally:
        await runtime.close()


async def test_polling_applies_a_replayed_update_once(
    engine: Engine, clock: FixedClock, fake_bot: FakeZaloBot
) -> None:
    fake_bot.replay_each = True  # getUpdates returns each update twice
    settings = zalo_settings(fake_bot, free_port(), mode="polling", poll_timeout_seconds=1)
    applied, stop = Applied(), asyncio.Event()
    runtime = await bot_runtime.start(ChannelDeps(settings, clock, applied, engine=engine))
    receiving = asyncio.create_task(runtime.receive(stop))
    try:
        await fake_bot.inject_message("u3", "một")
        for _ in range(800):
            if len(fake_bot.call_times("getUpdates")) >= 3 and applied.inbounds:
                break
            await asyncio.sleep(0.01)
        assert [i.text for i in applied.inbounds] == ["một"]
        assert rows(engine) == 1
    finally:
        stop.set()
        await asyncio.wait_for(receiving, 15)
        await runtime.close()


# --- Zalo OA ----------------------------------------------------------------------------------


async def test_the_oa_webhook_refuses_a_forged_signature_and_stores_a_signed_event(
    engine: Engine, fake_oa: FakeZaloOA
) -> None:
    from kernel.clock import SystemClock

    _access, refresh = fake_oa.issue_pair()
    base = Settings()
    port = free_port()
    settings = base.model_copy(
        update={
            "zalo": base.zalo.model_copy(update={"webhook_port": port}),
            "secrets": base.secrets.model_copy(
                update={
                    "zalo_oa_app_id": SecretStr(fake_oa.app_id),
                    "zalo_oa_app_secret": SecretStr(fake_oa.app_secret),
                    "zalo_oa_secret_key": SecretStr(fake_oa.secret_key),
                    "zalo_oa_refresh_token": SecretStr(refresh),
                }
            ),
        }
    )
    hub = WebhookHub("127.0.0.1", port)
    applied, stop = Applied(), asyncio.Event()
    runtime = await oa_runtime.start(
        ChannelDeps(settings, SystemClock(), applied, engine=engine, hub=hub)
    )
    receiving = asyncio.create_task(runtime.receive(stop))
    url = f"http://127.0.0.1:{port}/zalo-oa/webhook"
    try:
        forged = fake_oa.text_event("900", "1")
        assert await fake_oa.deliver(url, forged, forge=True) == 401
        assert rows(engine) == 0
        event = fake_oa.text_event("900", "#papi:a:5:done")
        assert await fake_oa.deliver(url, event) == 200
        assert await fake_oa.deliver(url, event) == 200  # a retry: stored once
        assert rows(engine) == 1
        for _ in range(500):
            if applied.inbounds:
                break
            await asyncio.sleep(0.01)
        assert [(i.channel, i.payload) for i in applied.inbounds] == [("zalo_oa", "a:5:done")]
    finally:
        stop.set()
        await asyncio.wait_for(receiving, 10)
        await hub.stop()
        await runtime.close()


def test_missing_oa_secrets_are_named(engine: Engine, clock: FixedClock) -> None:
    base = Settings()
    settings = base.model_copy(
        update={"secrets": base.secrets.model_copy(update={"zalo_oa_app_id": SecretStr("42")})}
    )
    with pytest.raises(StartupError, match="ZALO_OA_APP_SECRET"):
        asyncio.run(oa_runtime.start(ChannelDeps(settings, clock, Applied(), engine=engine)))
