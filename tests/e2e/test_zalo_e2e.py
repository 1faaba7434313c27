"""End to end: one real ``papi-bot run`` with Telegram, a Zalo bot and the Zalo OA at once,
against the three fake servers: webhooks into the durable inbox, the numbered menu on Zalo
Bot, an OA button press, a forged OA signature refused."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select

from bot.channels.menu import STALE_GRACE
from kernel.clock import VN_TZ
from storage.db import make_engine, session_scope
from storage.inbox import InboxUpdate, store_update
from storage.invites import create_invite
from storage.models import (
    Assignment,
    AssignmentOfficial,
    ChannelIdentity,
    Official,
    OutboxMessage,
)
from tests.e2e.conftest import TOKEN, BotProcess, prepare_database
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_zalo_bot import FakeZaloBot
from tests.fakes.fake_zalo_oa import FakeZaloOA

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ZALO_TOKEN = "1000:e2e-zalo-bot-secret-do-not-log"
ZALO_SECRET = "e2e-webhook-secret-123"
TG_USER, ZALO_USER, OA_USER = 7101, "zl-8001", "8002000000000000001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ZaloWorld:
    telegram: FakeTelegram
    zalo: FakeZaloBot
    oa: FakeZaloOA
    bot: BotProcess
    engine: Engine
    hooks: str  # the webhook server's base URL
    codes: dict[str, str]  # who → invite code
    ids: dict[str, int]  # who → official id
    env: dict[str, str]  # the Zalo secrets, for a restart

    def unsent(self, chat_id: str) -> int:
        soon = datetime.now(VN_TZ) + timedelta(seconds=2)
        with Session(self.engine) as session:
            query = (
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.chat_id == chat_id)
                .where(
                    or_(
                        col(OutboxMessage.next_attempt_at) <= soon,
                        col(OutboxMessage.claimed_at).is_not(None),
                    )
                )
            )
            return int(session.exec(query).one())

    def processed(self, channel: str, key: str) -> bool:
        with Session(self.engine) as session:
            row = session.exec(
                select(InboxUpdate).where(
                    InboxUpdate.channel == channel, InboxUpdate.update_key == key
                )
            ).first()
            return row is not None and row.processed_at is not None

    async def settled(self, channel: str, key: str, chat_id: str) -> None:
        for _ in range(3000):
            if self.processed(channel, key) and self.unsent(chat_id) == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(
            f"{channel} update {key} not applied and answered:\n{self.bot.log_text()}"
        )

    async def zalo_says(self, text: str) -> list[str]:
        before = len(self.zalo.sent_to(ZALO_USER))
        key = await self.zalo.inject_message(ZALO_USER, text)
        assert self.zalo.deliveries[-1] == 200
        await self.settled("zalo", key, ZALO_USER)
        return [m.text or "" for m in self.zalo.sent_to(ZALO_USER)[before:]]

    async def oa_says(self, text: str) -> list[Any]:
        before = len([m for m in self.oa.sent if m.user_id == OA_USER])
        event = self.oa.text_event(OA_USER, text)
        status = await self.oa.deliver(self.hooks + "/zalo-oa/webhook", event)
        assert status == 200
        await self.settled("zalo_oa", event["message"]["msg_id"], OA_USER)
        return [m for m in self.oa.sent if m.user_id == OA_USER][before:]

    async def telegram_says(self, text: str) -> list[str]:
        before = len(self.telegram.sent_to(TG_USER))
        update_id = await self.telegram.inject_message(TG_USER, text)
        await self.telegram.wait_confirmed(update_id + 1, wait_seconds=60)
        await wait_for(lambda: self.unsent(str(TG_USER)) == 0)
        return [m.text or "" for m in self.telegram.sent_to(TG_USER)[before:]]


async def wait_for(check: Callable[[], bool], seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def _three_officials(url: str) -> tuple[dict[str, str], dict[str, int]]:
    """Invite codes for three officials who have tasks (one per channel)."""
    prepare_database(url)
    engine = make_engine(url)
    now = datetime.now(VN_TZ)
    codes: dict[str, str] = {}
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        people = session.exec(
            select(Official)
            .where(
                col(Official.id).in_(select(AssignmentOfficial.official_id)),
                Official.role == "official",
            )
            .order_by(col(Official.id))
        ).all()
        assert len(people) >= 3, "the demo data has fewer than three officials with tasks"
        for who, person in zip(("telegram", "zalo", "zalo_oa"), people, strict=False):
            assert person.id is not None
            ids[who] = person.id
            codes[who] = create_invite(session, person.id, now, 14).code
    engine.dispose()
    return codes, ids


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ZaloWorld]:
    tmp_path: Path = tmp_path_factory.mktemp("zalo-e2e")
    url = f"sqlite:///{tmp_path / 'papi-bot.db'}"
    codes, ids = _three_officials(url)
    telegram, zalo, oa = FakeTelegram(TOKEN), FakeZaloBot(ZALO_TOKEN), FakeZaloOA()
    for fake in (telegram, zalo, oa):
        await fake.start()
    _access, refresh = oa.issue_pair()
    port = free_port()
    hooks = f"http://127.0.0.1:{port}"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[web]\nenabled = false\n\n'
        f'[telegram]\napi_base = "{telegram.base_url}"\n'
        "global_rate_per_second = 1000\nper_chat_rate_per_second = 100\n\n"
        f'[zalo]\napi_base = "{zalo.base_url}"\nmode = "webhook"\n'
        f'webhook_port = {port}\nwebhook_base_url = "{hooks}"\n'
        "global_rate_per_second = 1000\nper_chat_rate_per_second = 100\n\n"
        f'[zalo.oa]\napi_base = "{oa.base_url}"\noauth_base = "{oa.base_url}"\n',
        encoding="utf-8",
    )
    env = {
        "ZALO_BOT_TOKEN": ZALO_TOKEN,
        "ZALO_WEBHOOK_SECRET": ZALO_SECRET,
        "ZALO_OA_APP_ID": oa.app_id,
        "ZALO_OA_APP_SECRET": oa.app_secret,
        "ZALO_OA_SECRET_KEY": oa.secret_key,
        "ZALO_OA_REFRESH_TOKEN": refresh,
    }
    bot = BotProcess(config, tmp_path / "bot.log")
    engine = make_engine(url)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        await bot.start()
    try:
        await wait_for(lambda: zalo.webhook is not None, 60)
        yield ZaloWorld(telegram, zalo, oa, bot, engine, hooks, codes, ids, env)
    finally:
        returncode = await bot.stop()
        for fake in (telegram, zalo, oa):
            await fake.stop()
        engine.dispose()
    log = bot.log_text()
    assert returncode == 0, f"SIGTERM did not stop the bot cleanly:\n{log}"
    for secret in (TOKEN, ZALO_TOKEN, ZALO_SECRET, oa.secret_key, oa.app_secret, refresh):
        assert secret not in log, "a secret appeared in the bot's log"


def identity_channel(world: ZaloWorld, user_id: str) -> str | None:
    with Session(world.engine) as session:
        row = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.external_user_id == user_id)
        ).first()
        return None if row is None else row.channel


def done_count(world: ZaloWorld, official_id: int) -> int:
    with Session(world.engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(Assignment)
                .join(
                    AssignmentOfficial, col(AssignmentOfficial.assignment_id) == col(Assignment.id)
                )
                .where(AssignmentOfficial.official_id == official_id, Assignment.status == "done")
            ).one()
        )


async def test_three_channels_side_by_side(world: ZaloWorld) -> None:
    assert world.zalo.webhook is not None
    assert world.zalo.webhook["url"] == world.hooks + "/zalo/webhook"

    # Registration on each channel with an invite code.
    await world.telegram_says(f"/start {world.codes['telegram']}")
    assert identity_channel(world, str(TG_USER)) == "telegram"
    await world.zalo_says(world.codes["zalo"])
    assert identity_channel(world, ZALO_USER) == "zalo"
    await world.oa_says(world.codes["zalo_oa"])
    assert identity_channel(world, OA_USER) == "zalo_oa"

    # Each lists its tasks.
    assert await world.telegram_says("/nhiemvu")
    listing = await world.zalo_says("/nhiemvu")
    assert "1 — #" in listing[-1], "no numbered menu on Zalo Bot"
    oa_listing = await world.oa_says("/nhiemvu")
    assert oa_listing[-1].kind == "buttons", "no real buttons on the OA"


async def test_a_task_is_marked_done_by_replying_numbers_on_zalo_bot(world: ZaloWorld) -> None:
    before = done_count(world, world.ids["zalo"])
    await read_the_menu()
    task_view = await world.zalo_says("1")  # the first task of the list
    menu = menu_numbers(task_view[-1])
    assert "Hoàn thành" in menu, task_view
    await read_the_menu()
    await world.zalo_says(menu["Hoàn thành"])
    assert done_count(world, world.ids["zalo"]) == before + 1


async def test_a_task_is_marked_done_with_an_oa_button(world: ZaloWorld) -> None:
    before = done_count(world, world.ids["zalo_oa"])
    listing = await world.oa_says("/nhiemvu")
    view = next(b["payload"] for b in listing[-1].buttons if b["payload"].endswith(":view"))
    task_view = await world.oa_says(view)  # a pressed query button comes back as its payload
    done = next(b["payload"] for b in task_view[-1].buttons if b["payload"].endswith(":done"))
    await world.oa_says(done)
    assert done_count(world, world.ids["zalo_oa"]) == before + 1


async def test_a_forged_oa_signature_is_refused_and_changes_nothing(world: ZaloWorld) -> None:
    rows, done = inbox_rows(world), done_count(world, world.ids["zalo_oa"])
    sent = len(world.oa.sent)
    views = [
        str(button["payload"])
        for message in world.oa.sent
        if message.user_id == OA_USER
        for button in message.buttons or []
        if str(button["payload"]).endswith(":view")
    ]
    not_done = views[-1].replace(":view", ":done")  # a task still open
    event = world.oa.text_event(OA_USER, not_done)
    status = await world.oa.deliver(world.hooks + "/zalo-oa/webhook", event, forge=True)
    assert status == 401
    await asyncio.sleep(0.5)
    assert inbox_rows(world) == rows and done_count(world, world.ids["zalo_oa"]) == done
    assert len(world.oa.sent) == sent


async def test_a_zalo_redelivery_is_applied_once(world: ZaloWorld) -> None:
    event = zalo_text_event("redeliver-0001", "/nhiemvu")
    before = len(world.zalo.sent_to(ZALO_USER))
    await world.zalo.inject(event)
    await world.settled("zalo", "redeliver-0001", ZALO_USER)
    answered = len(world.zalo.sent_to(ZALO_USER))
    assert answered > before
    assert await world.zalo._deliver(event) == 200  # Zalo posts the same message again
    await asyncio.sleep(0.5)
    await world.settled("zalo", "redeliver-0001", ZALO_USER)
    assert len(world.zalo.sent_to(ZALO_USER)) == answered


async def test_an_update_stored_before_a_crash_is_applied_after_restart(
    world: ZaloWorld,
) -> None:
    """SIGKILL after the 200 (the update is in the inbox, unprocessed): the next start
    applies it."""
    await world.bot.kill()
    event = zalo_text_event("crash-0001", "/nhiemvu")
    with session_scope(world.engine) as session:
        assert store_update(session, "zalo", "crash-0001", event, datetime.now(VN_TZ))
    before = len(world.zalo.sent_to(ZALO_USER))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in world.env.items():
            patch.setenv(name, value)
        await world.bot.start()
    await world.settled("zalo", "crash-0001", ZALO_USER)
    assert len(world.zalo.sent_to(ZALO_USER)) > before


async def read_the_menu() -> None:
    """A number typed within STALE_GRACE of a new menu may have meant the old one and is
    answered with the menu again (bot.channels.menu); a person reads first."""
    await asyncio.sleep(STALE_GRACE.total_seconds() + 0.3)


def zalo_text_event(message_id: str, text: str) -> dict[str, Any]:
    return {
        "event_name": "message.text.received",
        "message": {
            "from": {"id": ZALO_USER, "display_name": "Cán bộ", "is_bot": False},
            "chat": {"id": ZALO_USER, "chat_type": "PRIVATE"},
            "message_id": message_id,
            "date": int(datetime.now(VN_TZ).timestamp() * 1000),
            "text": text,
        },
    }


def menu_numbers(text: str) -> dict[str, str]:
    """label → number of a numbered menu ("2 — Hoàn thành")."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        number, sep, label = line.partition(" — ")
        if sep and number.isdigit():
            found[label.strip()] = number
    return found


def inbox_rows(world: ZaloWorld) -> int:
    with Session(world.engine) as session:
        return int(session.exec(select(func.count()).select_from(InboxUpdate)).one())
