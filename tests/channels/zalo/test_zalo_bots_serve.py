"""Two Zalo bots bound to two communes, and the default bot, run by ``serve`` at once against
the fake Zalo Bot server (one address, one token per bot): each bot has its own webhook
path, officials register on their commune's bot and list their tasks there, each bot's
messages are counted against its own quota, and a full bot refuses the next person."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import serve
from bot.channels.menu import STALE_GRACE
from bot.channels.quota import QuotaUse, month_start, quota_warnings
from bot.config import Settings
from bot.config_bots import ZaloBotBinding
from kernel.clock import SystemClock
from storage.channel_usage import sent_since
from storage.db import session_scope
from storage.invites import create_invite
from storage.models import ChannelIdentity, OutboxMessage
from tests.channels.zalo.conftest import BOT_TOKEN
from tests.channels.zalo.test_zalo_wiring import free_port
from tests.fakes.fake_zalo_bot import FakeZaloBot, ZaloSent
from tests.handlers.helpers import World, make_world

TOKEN_A, TOKEN_B = "2001:bot-a-secret-never-logged", "2002:bot-b-secret-never-logged"


class NoScheduler:
    def start(self) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


@dataclass
class Bots:
    default: FakeZaloBot
    a: FakeZaloBot  # bound to commune X01 (Xã An Lạc)
    b: FakeZaloBot  # bound to commune X02 (Xã Hòa Thuận)
    world: World
    settings: Settings
    port: int

    def code(self, who: str) -> str:
        with session_scope(self.world.engine) as session:
            now = SystemClock().now()
            return create_invite(session, self.world.people[who].id or 0, now, 14).code


def bound_settings(fake: FakeZaloBot, port: int) -> Settings:
    base = Settings()
    zalo = base.zalo.model_copy(
        update={
            "api_base": fake.base_url,
            "webhook_port": port,
            "webhook_base_url": f"http://127.0.0.1:{port}",
            "global_rate_per_second": 1000,
            "per_chat_rate_per_second": 100,
            "quota_users_per_bot": 2,  # the free plan's ~50, made small
            "quota_messages_per_month": 12,
            "bots": [
                ZaloBotBinding(
                    name="xa-a", unit="DEMO-X01", token_env="TA", secret_env="SA", label="PAPI A"
                ),
                ZaloBotBinding(name="xa-b", unit="Xã Hòa Thuận", token_env="TB", secret_env="SB"),
            ],
        }
    )
    secrets = base.secrets.model_copy(
        update={
            "zalo_bot_token": SecretStr(BOT_TOKEN),
            "zalo_webhook_secret": SecretStr("default-hook-secret"),
            "zalo_bot_tokens": {"xa-a": SecretStr(TOKEN_A), "xa-b": SecretStr(TOKEN_B)},
            "zalo_bot_webhook_secrets": {
                "xa-a": SecretStr("hook-secret-a"),
                "xa-b": SecretStr("hook-secret-b"),
            },
        }
    )
    return base.model_copy(update={"zalo": zalo, "secrets": secrets})


@pytest.fixture
async def bots(engine: Engine) -> AsyncIterator[Bots]:
    default = FakeZaloBot(BOT_TOKEN)
    await default.start()
    a, b = default.add_bot(TOKEN_A), default.add_bot(TOKEN_B)
    port = free_port()
    settings = bound_settings(default, port)
    world = make_world(engine, SystemClock().now())
    world.settings = settings
    stop = asyncio.Event()
    factory: Callable[..., Any] = lambda *args: NoScheduler()  # noqa: E731
    serving = asyncio.create_task(
        serve(engine, settings, SystemClock(), stop, scheduler_factory=factory)
    )
    try:
        for _ in range(500):
            if all(fake.webhook for fake in (default, a, b)) or serving.done():
                break
            await asyncio.sleep(0.01)
        if serving.done():
            serving.result()  # the start failed: show why
        yield Bots(default, a, b, world, settings, port)
    finally:
        stop.set()
        await asyncio.wait_for(serving, 15)
        await default.stop()


async def says(fake: FakeZaloBot, user: str, text: str) -> list[ZaloSent]:
    """What the bot answers ``user`` (the messages that arrive within a moment)."""
    before = len(fake.sent_to(user))
    await fake.inject_message(user, text)
    for _ in range(1000):
        if len(fake.sent_to(user)) > before:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # a listing may come in several messages
    return fake.sent_to(user)[before:]


def channel_of(engine: Engine, user: str) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(ChannelIdentity.channel).where(ChannelIdentity.external_user_id == user)
        )
        return sorted(rows)


def joined(messages: list[ZaloSent]) -> str:
    return "\n".join(m.text or "" for m in messages)


async def test_officials_of_two_communes_use_their_own_bots(bots: Bots) -> None:
    port = bots.port
    assert bots.a.webhook == {
        "url": f"http://127.0.0.1:{port}/zalo/webhook/xa-a",
        "secret_token": "hook-secret-a",
    }
    assert bots.b.webhook is not None and bots.b.webhook["url"].endswith("/zalo/webhook/xa-b")
    assert bots.default.webhook is not None
    assert bots.default.webhook["url"].endswith("/zalo/webhook")

    assert "Chào mừng" in joined(await says(bots.a, "ua-1", bots.code("off1a")))
    assert "Chào mừng" in joined(await says(bots.b, "ub-1", bots.code("off2a")))
    assert channel_of(bots.world.engine, "ua-1") == ["zalo:xa-a"]
    assert channel_of(bots.world.engine, "ub-1") == ["zalo:xa-b"]
    assert "1 — #" in joined(await says(bots.a, "ua-1", "/nhiemvu"))  # a numbered menu
    assert "1 — #" in joined(await says(bots.b, "ub-1", "/nhiemvu"))
    await asyncio.sleep(STALE_GRACE.total_seconds() + 0.3)  # a person reads the menu first
    assert "Hoàn thành" in joined(await says(bots.b, "ub-1", "1"))  # the number is resolved
    # each bot wrote only to its own people
    assert {m.chat_id for m in bots.a.sent} == {"ua-1"}
    assert {m.chat_id for m in bots.b.sent} == {"ub-1"}
    assert bots.default.sent == []

    # the wrong bot names the right one, and links nothing
    wrong = joined(await says(bots.b, "ub-2", bots.code("off1b")))
    assert "“PAPI A”" in wrong and channel_of(bots.world.engine, "ub-2") == []

    # each bot's sends count against its own monthly quota
    now = SystemClock().now()
    with Session(bots.world.engine) as session:
        sent_a = sent_since(session, "zalo:xa-a", month_start(now))
        sent_b = sent_since(session, "zalo:xa-b", month_start(now))
        assert sent_since(session, "zalo", month_start(now)) == 0
        channels = set(session.exec(select(OutboxMessage.channel)).all())
    assert sent_a >= 2 and sent_b >= 3 and channels == {"zalo:xa-a", "zalo:xa-b"}
    for _ in range(12 - sent_a):  # xa-a reaches its (small) quota
        await says(bots.a, "ua-1", "/trogiup")
    with Session(bots.world.engine) as session:
        warnings = quota_warnings(session, bots.settings, SystemClock().now())
    assert [w.channel for w in warnings] == ["zalo:xa-a"]
    assert warnings[0] == QuotaUse("zalo:xa-a", warnings[0].sent, 12) and warnings[0].sent >= 12


async def test_a_full_bot_refuses_the_third_person(bots: Bots) -> None:
    coordinator = bots.world.link("coord", channel="zalo")  # on the default bot
    assert "Chào mừng" in joined(await says(bots.a, "ua-1", bots.code("chair1")))
    assert "Chào mừng" in joined(await says(bots.a, "ua-2", bots.code("off1a")))
    refused = joined(await says(bots.a, "ua-3", bots.code("off1b")))
    assert "đã phục vụ đủ 2 người" in refused, refused
    assert channel_of(bots.world.engine, "ua-3") == []
    for _ in range(500):  # the coordinator hears of it, on their own bot
        if bots.default.sent_to(coordinator):
            break
        await asyncio.sleep(0.01)
    (notice,) = bots.default.sent_to(coordinator)
    assert "“PAPI A” đã đầy (2/2" in (notice.text or ""), notice
    assert bots.world.people["off1b"].name in (notice.text or "")


async def test_trying_again_on_a_full_bot_tells_the_coordinators_once_a_day(bots: Bots) -> None:
    """The person is answered every time; the coordinators hear of them once a day, not at
    every attempt (someone retrying their code ten times is one problem, not ten)."""
    coordinator = bots.world.link("coord", channel="zalo")
    await says(bots.a, "ua-1", bots.code("chair1"))
    await says(bots.a, "ua-2", bots.code("off1a"))
    for _ in range(3):
        refused = joined(await says(bots.a, "ua-3", bots.code("off1b")))
        assert "đã phục vụ đủ 2 người" in refused, refused
    for _ in range(500):
        if bots.default.sent_to(coordinator):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # a second notice would have arrived by now
    notices = [m.text or "" for m in bots.default.sent_to(coordinator)]
    assert len(notices) == 1, notices
    assert bots.world.people["off1b"].name in notices[0]
