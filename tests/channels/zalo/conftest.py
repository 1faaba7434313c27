"""Fixtures of the Zalo tests: the fake servers and an httpx client (the network guard of
tests/conftest.py covers every test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_oa.client import ZaloOAClient
from bot.channels.zalo_oa.tokens import OATokenManager
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.oa_tokens import store_authorized
from tests.fakes.fake_zalo_bot import FakeZaloBot
from tests.fakes.fake_zalo_oa import FakeZaloOA

BOT_TOKEN = "1000:ZALO-bot-secret-never-logged"


@pytest.fixture
async def fake_bot() -> AsyncIterator[FakeZaloBot]:
    server = FakeZaloBot(BOT_TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def bot_client(fake_bot: FakeZaloBot, http: httpx.AsyncClient, clock: FixedClock) -> ZaloBotClient:
    return ZaloBotClient(
        token=BOT_TOKEN,
        http=http,
        api_base=fake_bot.base_url,
        quota_backoff_seconds=3600,
        clock=clock,
    )


@pytest.fixture
async def fake_oa() -> AsyncIterator[FakeZaloOA]:
    server = FakeZaloOA()
    await server.start()
    yield server
    await server.stop()


def make_manager(
    engine: Engine, http: httpx.AsyncClient, fake: FakeZaloOA, clock: FixedClock
) -> OATokenManager:
    return OATokenManager(
        engine=engine,
        http=http,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        oauth_base=fake.base_url,
        refresh_ahead_seconds=6 * 3600,
        lease_seconds=60,
        clock=clock,
    )


def store_pair(engine: Engine, fake: FakeZaloOA, clock: FixedClock, *, hours: float = 25) -> str:
    """An authorised OA: the fake issues a pair, the database stores it; the access token."""
    access, refresh = fake.issue_pair()
    with session_scope(engine) as session:
        store_authorized(
            session,
            fake.app_id,
            access_token=access,
            refresh_token=refresh,
            access_expires_at=clock.now() + timedelta(hours=hours),
            now=clock.now(),
        )
    return access


@pytest.fixture
def manager(
    engine: Engine, http: httpx.AsyncClient, fake_oa: FakeZaloOA, clock: FixedClock
) -> OATokenManager:
    return make_manager(engine, http, fake_oa, clock)


@pytest.fixture
def oa_client(
    http: httpx.AsyncClient, manager: OATokenManager, fake_oa: FakeZaloOA
) -> ZaloOAClient:
    return ZaloOAClient(http=http, tokens=manager, api_base=fake_oa.base_url)
