"""The real ``papi-bot run`` process against the fake Bot API server, on demo data."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select

from bot.config import Settings
from bot.demo import ensure_demo_data
from kernel.clock import VN_TZ
from storage.db import make_engine, session_scope, upgrade
from storage.invites import create_invite
from storage.models import AssignmentOfficial, Official, OutboxMessage, ProcessedUpdate, Unit
from storage.taxonomy import sync_taxonomy
from tests.fakes.fake_telegram import FakeTelegram, SentMessage

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:E2E-secret-bot-token-do-not-log"


@dataclass
class People:
    official: Official
    chair: Official
    coordinator: Official
    codes: dict[str, str] = field(default_factory=dict)  # role → invite code


class BotProcess:
    """Starts, kills and restarts ``python -m bot run``; its stderr goes to a file."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PAPI_BOT_CONFIG": str(self.config)}
        env.pop("PAPI_BOT_DATABASE_URL", None)
        self.starts += 1
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
            )

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.returncode is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            return await self.proc.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class World:
    fake: FakeTelegram
    bot: BotProcess
    engine: Engine
    people: People

    async def settle(self, update_id: int, chat_id: str | None = None) -> None:
        """Wait until the bot applied ``update_id`` and sent what became due because of it."""
        await self.fake.wait_confirmed(update_id + 1, wait_seconds=60)
        for _ in range(3000):
            if self.unsent(chat_id) == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"outbox not drained for chat {chat_id}")

    def unsent(self, chat_id: str | None = None) -> int:
        soon = datetime.now(VN_TZ) + timedelta(seconds=2)
        with Session(self.engine) as session:
            query = (
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
                .where(
                    or_(
                        col(OutboxMessage.next_attempt_at) <= soon,
                        col(OutboxMessage.claimed_at).is_not(None),
                    )
                )
            )
            if chat_id is not None:
                query = query.where(OutboxMessage.chat_id == chat_id)
            return int(session.exec(query).one())

    def assert_burst_applied_once(self, users: list[int], per_user: int) -> None:
        """Each of the ``users``' ``per_user`` messages applied exactly once (a processed
        key each, none twice) and answered by one outbox row."""
        with Session(self.engine) as session:
            keys = session.exec(
                select(ProcessedUpdate.update_key).where(ProcessedUpdate.channel == "telegram")
            ).all()
            # "<bot id>:m:<chat id>:<message id>": the burst is every message of its chats.
            chats = {f":m:{user}:" for user in users}
            burst = [key for key in keys if any(chat in key for chat in chats)]
            assert len(burst) == per_user * len(users) == len(set(burst))
            rows = session.exec(
                select(OutboxMessage.chat_id, func.count())
                .where(col(OutboxMessage.chat_id).in_([str(u) for u in users]))
                .group_by(col(OutboxMessage.chat_id))
            ).all()
            assert dict(rows) == {str(user): per_user for user in users}  # one answer each

    async def say(
        self, user_id: int, text: str | None = None, **kwargs: object
    ) -> list[SentMessage]:
        before = len(self.fake.sent_to(user_id))
        update_id = await self.fake.inject_message(user_id, text, **kwargs)  # type: ignore[arg-type]
        await self.settle(update_id, str(user_id))
        return self.fake.sent_to(user_id)[before:]

    async def press(self, user_id: int, message_id: int, data: str) -> list[SentMessage]:
        before = len(self.fake.sent_to(user_id))
        update_id = await self.fake.press_button(user_id, message_id, data)
        await self.settle(update_id, str(user_id))
        return self.fake.sent_to(user_id)[before:]


def _pick_people(session: Session) -> People:
    official = session.exec(
        select(Official)
        .join(AssignmentOfficial, col(AssignmentOfficial.official_id) == col(Official.id))
        .where(Official.role == "official")
        .order_by(col(Official.id))
    ).first()
    assert official is not None, "the demo data assigns no task to an official"
    chair = session.exec(
        select(Official).where(Official.unit_id == official.unit_id, Official.role == "chair")
    ).first()
    coordinator = session.exec(select(Official).where(Official.role == "coordinator")).first()
    assert chair is not None and coordinator is not None
    return People(official=official, chair=chair, coordinator=coordinator)


def prepare_database(url: str) -> People:
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(VN_TZ)
    with session_scope(engine) as session:
        sync_taxonomy(session)
        ensure_demo_data(session, Settings(), now)
        people = _pick_people(session)
        for role, person in (
            ("official", people.official),
            ("chair", people.chair),
            ("coordinator", people.coordinator),
        ):
            assert person.id is not None
            people.codes[role] = create_invite(session, person.id, now, 14).code
        assert session.exec(select(Unit)).first() is not None
    engine.dispose()
    return people


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot process for the module (starting it costs seconds); tests run in order."""
    tmp_path = tmp_path_factory.mktemp("e2e")
    if not (REPO_ROOT / "handlers" / "router.py").is_file():
        pytest.fail("handlers/router.py is missing: the conversation is not built yet")
    url = f"sqlite:///{tmp_path / 'papi-bot.db'}"
    people = prepare_database(url)
    fake = FakeTelegram(TOKEN)
    await fake.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n'
        f'[telegram]\napi_base = "{fake.base_url}"\n'
        "global_rate_per_second = 1000\nper_chat_rate_per_second = 100\n\n"
        # The burst tests count one answer per stranger's update; the flood guard's own
        # limits are tested in tests/security/test_flood.py.
        "[flood]\nstranger_answers_per_minute = 60\n",
        encoding="utf-8",
    )
    bot = BotProcess(config, tmp_path / "bot.log")
    engine = make_engine(url)
    await bot.start()
    try:
        yield World(fake=fake, bot=bot, engine=engine, people=people)
    finally:
        returncode = await bot.stop()
        await fake.stop()
        engine.dispose()
    assert returncode == 0, "SIGTERM did not stop the bot cleanly"
    assert TOKEN not in bot.log_text(), "the bot token appeared in the bot's log"
    assert "+84" not in bot.log_text(), "a phone number appeared in the bot's log"
