"""End to end: a real ``papi-bot run`` SIGKILLed in the middle of an OA token rotation.

Zalo's refresh token is single-use: the moment Zalo rotates, the old one is dead. The bot
commits the new pair before it uses it (``bot/channels/zalo_oa/tokens.py``), so the three
moments a kill can hit are:

- before Zalo rotated (the request never got there): the stored pair is intact; the restarted
  bot sends with the old access token and, once the dead process's lease ran out, refreshes
  with the old refresh token, which still works;
- after Zalo rotated, before the bot stored the answer — the one window no client can close:
  the stored refresh token is dead. The bot keeps sending with the old access token (the
  refresh runs hours before expiry), marks the pair ``needs_reauthorization`` when Zalo
  refuses the refresh, and the admin's ``papi-bot zalo-oa authorize`` repairs it while the
  bot runs;
- right after the bot stored the new pair: the restarted bot uses it, with no refresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select
from typer.testing import CliRunner

from bot.cli import app as cli_app
from kernel.clock import VN_TZ
from storage.db import make_engine, session_scope
from storage.inbox import InboxUpdate
from storage.models import OutboxMessage
from storage.oa_tokens import OAToken, TokenPair, get_tokens
from tests.e2e.conftest import TOKEN, BotProcess, prepare_database
from tests.e2e.test_zalo_e2e import free_port, wait_for
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_zalo_oa import FakeZaloOA, OASent

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

OA_USER = "8003000000000000001"
LEASE_SECONDS = 5  # the dead process's refresh lease: short, so the test need not wait long


@dataclass
class OAWorld:
    oa: FakeZaloOA
    bot: BotProcess
    engine: Engine
    hooks: str
    config: Path
    env: dict[str, str]
    code: str  # the official's invite code

    def pair(self) -> TokenPair:
        with session_scope(self.engine) as session:
            found = get_tokens(session, self.oa.app_id)
        assert found is not None
        return found

    def refresh_due(self) -> None:
        """The stored access token has 1 h left: inside the 6 h refresh margin, still valid."""
        with session_scope(self.engine) as session:
            session.execute(
                update(OAToken)
                .where(col(OAToken.app_id) == self.oa.app_id)
                .values(access_expires_at=datetime.now(VN_TZ) + timedelta(hours=1))
            )

    def unsent(self) -> int:
        soon = datetime.now(VN_TZ) + timedelta(seconds=2)
        with Session(self.engine) as session:
            query = (
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.chat_id == OA_USER)
                .where(
                    or_(
                        col(OutboxMessage.next_attempt_at) <= soon,
                        col(OutboxMessage.claimed_at).is_not(None),
                    )
                )
            )
            return int(session.exec(query).one())

    def processed(self, key: str) -> bool:
        with Session(self.engine) as session:
            row = session.exec(
                select(InboxUpdate).where(
                    InboxUpdate.channel == "zalo_oa", InboxUpdate.update_key == key
                )
            ).first()
            return row is not None and row.processed_at is not None

    async def deliver(self, text: str) -> str:
        event = self.oa.text_event(OA_USER, text)
        assert await self.oa.deliver(self.hooks + "/zalo-oa/webhook", event) == 200
        return str(event["message"]["msg_id"])

    async def answered(self, key: str) -> None:
        try:
            await wait_for(lambda: self.processed(key) and self.unsent() == 0, 60)
        except AssertionError:
            raise AssertionError(f"update {key} not answered:\n{self.bot.log_text()}") from None

    async def says(self, text: str) -> list[OASent]:
        before = len(self.oa.sent)
        await self.answered(await self.deliver(text))
        return [m for m in self.oa.sent[before:] if m.user_id == OA_USER]

    async def restart(self) -> None:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in self.env.items():
                patch.setenv(name, value)
            await self.bot.start()
        await wait_for(self._listening, 60)

    def _listening(self) -> bool:
        import socket

        port = int(self.hooks.rsplit(":", 1)[1])
        with socket.socket() as sock:
            try:
                sock.connect(("127.0.0.1", port))
            except OSError:
                return False
            return True

    async def killed_in_flight(self, *, after_rotation: bool) -> None:
        """A message whose reply needs a refresh; SIGKILL while Zalo holds that refresh."""
        self.refresh_due()
        self.oa.hold_next_refresh(after_rotation=after_rotation)
        await self.deliver("/nhiemvu")
        await asyncio.wait_for(self.oa.refresh_held.wait(), 60)
        await self.bot.kill()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[OAWorld]:
    tmp_path = tmp_path_factory.mktemp("oa-rotation")
    url = f"sqlite:///{tmp_path / 'papi-bot.db'}"
    people = prepare_database(url)
    telegram, oa = FakeTelegram(TOKEN), FakeZaloOA()
    for fake in (telegram, oa):
        await fake.start()
    _access, refresh = oa.issue_pair()
    port = free_port()
    hooks = f"http://127.0.0.1:{port}"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[app]\ndata_dir = "{tmp_path / "data"}"\n\n'
        f'[database]\nurl = "{url}"\n\n[web]\nenabled = false\n\n'
        f'[telegram]\napi_base = "{telegram.base_url}"\n\n'
        f"[zalo]\nwebhook_port = {port}\n"
        "global_rate_per_second = 1000\nper_chat_rate_per_second = 100\n\n"
        f'[zalo.oa]\napi_base = "{oa.base_url}"\noauth_base = "{oa.base_url}"\n'
        f'refresh_lease_seconds = {LEASE_SECONDS}\nredirect_uri = "https://papi.example.vn/cb"\n',
        encoding="utf-8",
    )
    env = {
        "ZALO_OA_APP_ID": oa.app_id,
        "ZALO_OA_APP_SECRET": oa.app_secret,
        "ZALO_OA_SECRET_KEY": oa.secret_key,
        "ZALO_OA_REFRESH_TOKEN": refresh,
    }
    bot = BotProcess(config, tmp_path / "bot.log")
    engine = make_engine(url)
    world = OAWorld(oa, bot, engine, hooks, config, env, people.codes["official"])
    try:
        await world.restart()
        yield world
    finally:
        oa.release_refresh()
        returncode = await bot.stop()
        for fake in (telegram, oa):
            await fake.stop()
        engine.dispose()
    log = bot.log_text()
    assert returncode == 0, f"SIGTERM did not stop the bot cleanly:\n{log}"
    every_token = {refresh, *oa.valid_access, oa.current_refresh or "-", *oa.refreshes}
    every_token |= {sent.access_token for sent in oa.sent}
    for secret in every_token | {oa.app_secret, oa.secret_key}:
        assert secret not in log, "a token or secret appeared in the bot's log"


async def test_registration_spends_the_seeded_refresh_token(world: OAWorld) -> None:
    replies = await world.says(world.code)
    assert replies, "no answer to the invite code"
    pair = world.pair()
    assert pair.refresh_token == world.oa.current_refresh and pair.generation >= 1
    assert replies[-1].access_token == pair.access_token


async def test_killed_before_zalo_rotated_the_old_pair_still_works(world: OAWorld) -> None:
    before = world.pair()
    await world.killed_in_flight(after_rotation=False)
    world.oa.release_refresh(rotate=False)  # the request never reached Zalo
    assert world.pair().refresh_token == before.refresh_token == world.oa.current_refresh
    await world.restart()
    # The reply that was waiting is sent (with the old access token while the dead process's
    # lease lasts, or after a refresh with the old, still valid, refresh token).
    await wait_for(lambda: world.unsent() == 0, 60)
    await asyncio.sleep(LEASE_SECONDS + 0.5)
    replies = await world.says("/nhiemvu")
    after = world.pair()
    assert after.generation > before.generation, "the due refresh never happened"
    assert after.refresh_token == world.oa.current_refresh and not after.needs_reauthorization
    assert replies[-1].access_token == after.access_token


async def test_killed_after_zalo_rotated_the_admin_reauthorizes_while_the_bot_runs(
    world: OAWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = world.pair()
    await world.killed_in_flight(after_rotation=True)
    world.oa.release_refresh()  # Zalo rotated and answered a dead process
    assert world.oa.current_refresh != before.refresh_token  # the stored one is dead now
    await world.restart()
    await wait_for(lambda: world.unsent() == 0, 60)  # the waiting reply: old access token
    await asyncio.sleep(LEASE_SECONDS + 0.5)
    replies = await world.says("/nhiemvu")  # the refresh is refused; the old token serves
    assert replies and replies[-1].access_token == before.access_token
    stuck = world.pair()
    assert stuck.needs_reauthorization and stuck.refresh_token == before.refresh_token
    assert "must re-authorise" in world.bot.log_text()

    # The admin runs the command while the bot runs; the bot's next send uses the new pair.
    for name, value in world.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(world.config))
    monkeypatch.delenv("PAPI_BOT_DATABASE_URL", raising=False)
    runner = CliRunner()
    printed = await asyncio.to_thread(
        runner.invoke, cli_app, ["zalo-oa", "authorize", "--print-url"]
    )
    assert printed.exit_code == 0, printed.output
    url = next(line for line in printed.output.splitlines() if line.startswith("http"))
    code = world.oa.new_code(parse_qs(urlsplit(url).query)["code_challenge"][0])
    done = await asyncio.to_thread(runner.invoke, cli_app, ["zalo-oa", "authorize", "--code", code])
    assert done.exit_code == 0, done.output
    fixed = world.pair()
    assert not fixed.needs_reauthorization and fixed.refresh_token == world.oa.current_refresh
    replies = await world.says("/nhiemvu")
    assert replies[-1].access_token == fixed.access_token


async def test_killed_right_after_the_bot_stored_the_new_pair_nothing_is_lost(
    world: OAWorld,
) -> None:
    before = world.pair()
    world.refresh_due()
    world.oa.hold_next_refresh(after_rotation=True)
    await world.deliver("/nhiemvu")
    await asyncio.wait_for(world.oa.refresh_held.wait(), 60)
    world.oa.release_refresh()  # Zalo answers this time: the bot stores the new pair
    await wait_for(lambda: world.pair().generation > before.generation, 30)
    await world.bot.kill()  # just after the commit; the reply may or may not be sent
    stored = world.pair()
    assert stored.refresh_token == world.oa.current_refresh
    refreshes = len(world.oa.refreshes)
    await world.restart()
    await wait_for(lambda: world.unsent() == 0, 60)
    replies = await world.says("/nhiemvu")
    assert replies[-1].access_token == stored.access_token
    assert len(world.oa.refreshes) == refreshes, "the restarted bot refreshed again"
