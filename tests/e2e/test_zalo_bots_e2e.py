"""End to end: one real ``papi-bot run`` with Telegram and two Zalo bots bound to two
communes ([[zalo.bots]]), a third bound bot whose token variable is unset, against the fake
servers: each official registers on their commune's bot and lists tasks there, a code on
the wrong bot names the right one, a full bot refuses, and each bot's sends are its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from kernel.clock import VN_TZ
from storage.db import make_engine, session_scope
from storage.invites import create_invite
from storage.models import AssignmentOfficial, ChannelIdentity, Official, OutboxMessage, Unit
from tests.e2e.conftest import TOKEN, BotProcess, prepare_database
from tests.e2e.test_zalo_e2e import free_port, wait_for
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_zalo_bot import FakeZaloBot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

TOKEN_A = "3001:e2e-bot-a-secret-do-not-log"
TOKEN_B = "3002:e2e-bot-b-secret-do-not-log"
SECRET_A, SECRET_B = "e2e-hook-secret-a", "e2e-hook-secret-b"
TG_USER = 7301


@dataclass
class BotsWorld:
    telegram: FakeTelegram
    a: FakeZaloBot
    b: FakeZaloBot
    bot: BotProcess
    engine: Engine
    hooks: str
    codes: dict[str, str]  # who → invite code: a1, a2 (commune X01), b1 (X02), tg (X03)

    def pending(self, channel: str) -> int:
        with Session(self.engine) as session:
            query = (
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.channel == channel, OutboxMessage.status == "pending")
            )
            return int(session.exec(query).one())

    async def says(self, fake: FakeZaloBot, channel: str, user: str, text: str) -> str:
        before = len(fake.sent_to(user))
        await fake.inject_message(user, text)
        assert fake.deliveries[-1] == 200
        await wait_for(lambda: len(fake.sent_to(user)) > before and self.pending(channel) == 0)
        await asyncio.sleep(0.3)  # a listing may come in several messages
        return "\n".join(m.text or "" for m in fake.sent_to(user)[before:])

    def linked(self, user: str) -> list[str]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(ChannelIdentity.channel).where(ChannelIdentity.external_user_id == user)
            )
            return sorted(rows)


def _codes(url: str) -> dict[str, str]:
    """Codes for two officials with tasks in X01, one in X02, one in X03 (Telegram)."""
    prepare_database(url)
    engine = make_engine(url)
    now = datetime.now(VN_TZ)
    codes: dict[str, str] = {}
    with session_scope(engine) as session:

        def with_tasks(unit_code: str) -> list[Official]:
            return list(
                session.exec(
                    select(Official)
                    .join(Unit, col(Unit.id) == col(Official.unit_id))
                    .where(Unit.code == unit_code, Official.role == "official")
                    .where(col(Official.id).in_(select(AssignmentOfficial.official_id)))
                    .order_by(col(Official.id))
                )
            )

        a1, a2 = with_tasks("DEMO-X01")[:2]
        for who, person in (("a1", a1), ("a2", a2), ("b1", with_tasks("DEMO-X02")[0])):
            codes[who] = create_invite(session, person.id or 0, now, 14).code
        codes["tg"] = create_invite(session, with_tasks("DEMO-X03")[0].id or 0, now, 14).code
    engine.dispose()
    return codes


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotsWorld]:
    tmp_path: Path = tmp_path_factory.mktemp("zalo-bots-e2e")
    url = f"sqlite:///{tmp_path / 'papi-bot.db'}"
    codes = _codes(url)
    telegram, zalo = FakeTelegram(TOKEN), FakeZaloBot("3999:unused-default")
    for fake in (telegram, zalo):
        await fake.start()
    a, b = zalo.add_bot(TOKEN_A), zalo.add_bot(TOKEN_B)
    port = free_port()
    hooks = f"http://127.0.0.1:{port}"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[web]\nenabled = false\n\n'
        f'[telegram]\napi_base = "{telegram.base_url}"\n'
        "global_rate_per_second = 1000\nper_chat_rate_per_second = 100\n\n"
        f'[zalo]\napi_base = "{zalo.base_url}"\nmode = "webhook"\n'
        f'webhook_port = {port}\nwebhook_base_url = "{hooks}"\n'
        "global_rate_per_second = 1000\nper_chat_rate_per_second = 100\n"
        "quota_users_per_bot = 1\n\n"
        '[[zalo.bots]]\nname = "xa-a"\nunit = "DEMO-X01"\ntoken_env = "ZALO_BOT_TOKEN_XA_A"\n'
        'secret_env = "ZALO_WEBHOOK_SECRET_XA_A"\nlabel = "PAPI An Lạc"\n\n'
        '[[zalo.bots]]\nname = "xa-b"\nunit = "Xã Hòa Thuận"\ntoken_env = "ZALO_BOT_TOKEN_XA_B"\n'
        'secret_env = "ZALO_WEBHOOK_SECRET_XA_B"\nlabel = "PAPI Hòa Thuận"\n\n'
        '[[zalo.bots]]\nname = "xa-c"\nunit = "DEMO-X03"\ntoken_env = "ZALO_BOT_TOKEN_XA_C"\n',
        encoding="utf-8",
    )
    env = {
        "ZALO_BOT_TOKEN_XA_A": TOKEN_A,
        "ZALO_WEBHOOK_SECRET_XA_A": SECRET_A,
        "ZALO_BOT_TOKEN_XA_B": TOKEN_B,
        "ZALO_WEBHOOK_SECRET_XA_B": SECRET_B,
    }
    bot = BotProcess(config, tmp_path / "bot.log")
    engine = make_engine(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ZALO_BOT_TOKEN", raising=False)
        patch.delenv("ZALO_BOT_TOKEN_XA_C", raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        await bot.start()
    try:
        await wait_for(lambda: a.webhook is not None and b.webhook is not None, 60)
        yield BotsWorld(telegram, a, b, bot, engine, hooks, codes)
    finally:
        returncode = await bot.stop()
        for fake in (telegram, zalo):
            await fake.stop()
        engine.dispose()
    log = bot.log_text()
    assert returncode == 0, f"SIGTERM did not stop the bot cleanly:\n{log}"
    for secret in (TOKEN, TOKEN_A, TOKEN_B, SECRET_A, SECRET_B):
        assert secret not in log, "a secret appeared in the bot's log"


async def test_each_commune_on_its_own_bot_with_telegram_alongside(world: BotsWorld) -> None:
    assert world.a.webhook is not None and world.b.webhook is not None
    assert world.a.webhook["url"] == world.hooks + "/zalo/webhook/xa-a"
    assert world.b.webhook["url"] == world.hooks + "/zalo/webhook/xa-b"
    assert "zalo:xa-c: ZALO_BOT_TOKEN_XA_C is not set" in world.bot.log_text()

    # the X02 official tries commune X01's bot first: told which bot to use
    wrong = await world.says(world.a, "zalo:xa-a", "zb-1", world.codes["b1"])
    assert "“PAPI Hòa Thuận”" in wrong and world.linked("zb-1") == []
    assert "Chào mừng" in await world.says(world.b, "zalo:xa-b", "zb-1", world.codes["b1"])
    assert "Chào mừng" in await world.says(world.a, "zalo:xa-a", "za-1", world.codes["a1"])
    assert world.linked("za-1") == ["zalo:xa-a"] and world.linked("zb-1") == ["zalo:xa-b"]
    assert "1 — #" in await world.says(world.a, "zalo:xa-a", "za-1", "/nhiemvu")
    assert "1 — #" in await world.says(world.b, "zalo:xa-b", "zb-1", "/nhiemvu")

    # Telegram runs alongside: an X03 official (whose bot xa-c is disabled) registers there
    update_id = await world.telegram.inject_message(TG_USER, f"/start {world.codes['tg']}")
    await world.telegram.wait_confirmed(update_id + 1, wait_seconds=60)
    await wait_for(lambda: bool(world.telegram.sent_to(TG_USER)) and not world.pending("telegram"))
    assert world.linked(str(TG_USER)) == ["telegram"]

    # each bot wrote only to its own people; the rows say which bot sent them
    assert {m.chat_id for m in world.a.sent} == {"zb-1", "za-1"}
    assert {m.chat_id for m in world.b.sent} == {"zb-1"}
    with Session(world.engine) as session:
        by_channel = dict(
            session.exec(
                select(OutboxMessage.channel, func.count())
                .where(OutboxMessage.status == "sent")
                .group_by(col(OutboxMessage.channel))
            ).all()
        )
    assert by_channel["zalo:xa-a"] >= 3 and by_channel["zalo:xa-b"] >= 2
    assert set(by_channel) == {"zalo:xa-a", "zalo:xa-b", "telegram"}


async def test_a_full_bot_refuses_the_next_official(world: BotsWorld) -> None:
    """quota_users_per_bot = 1: the X01 bot already serves one official."""
    refused = await world.says(world.a, "zalo:xa-a", "za-2", world.codes["a2"])
    assert "đã phục vụ đủ 1 người" in refused, refused
    assert world.linked("za-2") == []
