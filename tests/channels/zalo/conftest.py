"""Fixtures of the Zalo tests: the fake servers, an httpx client, and the network guard."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.channels.zalo_bot.client import ZaloBotClient
from kernel.clock import FixedClock
from tests.channels.contract import NetworkGuard, network_guard
from tests.fakes.fake_zalo_bot import FakeZaloBot

BOT_TOKEN = "1000:ZALO-bot-secret-never-logged"

__all__ = ["network_guard"]


@pytest.fixture(autouse=True)
def _stay_local(network_guard: NetworkGuard) -> NetworkGuard:
    return network_guard


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
