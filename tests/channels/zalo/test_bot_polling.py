"""Polling (development only): ≥ min_interval between calls, 408 is idle, replays reach the
caller (who dedupes by message_id), quota backs off long, 401 stops, a webhook blocks it."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_bot.errors import ZaloConfigError, ZaloQuotaExceeded, ZaloWebhookActive
from bot.channels.zalo_bot.polling import poll
from bot.channels.zalo_bot.updates import update_key
from tests.fakes.fake_zalo_bot import FakeZaloBot

INTERVAL = 0.2


class Seen:
    """The caller's side: the database dedupe, as a set of message_ids."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.applied: list[str] = []
        self.deliveries = 0

    async def handle(self, update: dict[str, Any]) -> None:
        self.deliveries += 1
        key = update_key(update)
        if key not in self.keys:
            self.keys.add(key)
            self.applied.append(update["message"]["text"])


async def run_until(client: ZaloBotClient, seen: Seen, done: Any, **kwargs: Any) -> asyncio.Event:
    stop = asyncio.Event()
    task = asyncio.create_task(
        poll(client, seen.handle, stop=stop, min_interval=INTERVAL, poll_seconds=0, **kwargs)
    )
    for _ in range(200):
        if done():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    return stop


async def test_polling_keeps_a_floor_between_calls_and_dedupes_replays(
    fake_bot: FakeZaloBot, bot_client: ZaloBotClient
) -> None:
    fake_bot.replay_each = True
    for text in ("một", "hai", "ba"):
        await fake_bot.inject_message("u1", text)
    seen = Seen()
    # The floor is kept on the poller's own clock: record when each call starts there (the
    # server's arrival times jitter on a busy machine, and are not what the code promises).
    starts: list[float] = []
    real_get_updates = bot_client.get_updates

    async def timed_get_updates(*args: Any, **kwargs: Any) -> Any:
        starts.append(time.monotonic())
        return await real_get_updates(*args, **kwargs)

    bot_client.get_updates = timed_get_updates  # type: ignore[method-assign]
    await run_until(bot_client, seen, lambda: seen.deliveries >= 6 and not fake_bot.pending)
    assert seen.applied == ["một", "hai", "ba"]  # each once, in order
    assert seen.deliveries == 6  # every update came twice
    assert len(starts) >= 6 and len(fake_bot.call_times("getUpdates")) == len(starts)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= INTERVAL - 0.005, gaps  # asyncio's clock resolution, no more


async def test_replay_returned_reaches_the_caller_again(
    fake_bot: FakeZaloBot, bot_client: ZaloBotClient
) -> None:
    await fake_bot.inject_message("u1", "xong")
    assert len(await bot_client.get_updates(0)) == 1
    fake_bot.replay_returned()
    seen = Seen()
    await run_until(bot_client, seen, lambda: seen.deliveries >= 1)
    assert seen.applied == ["xong"]


async def test_polling_refuses_while_a_webhook_is_set(
    fake_bot: FakeZaloBot, bot_client: ZaloBotClient
) -> None:
    await bot_client.set_webhook("https://example.invalid/hook", "a-long-secret")
    with pytest.raises(ZaloWebhookActive):
        await poll(bot_client, Seen().handle, stop=asyncio.Event())
    assert fake_bot.call_times("getUpdates") == []


async def test_a_refused_token_stops_polling(
    fake_bot: FakeZaloBot, bot_client: ZaloBotClient
) -> None:
    fake_bot.fail_next("getUpdates", 401)
    with pytest.raises(ZaloConfigError):
        await poll(bot_client, Seen().handle, stop=asyncio.Event(), min_interval=INTERVAL)


async def test_quota_backs_off_long_and_reports(
    fake_bot: FakeZaloBot, bot_client: ZaloBotClient
) -> None:
    fake_bot.fail_next("getUpdates", 429)
    alerts: list[ZaloQuotaExceeded] = []

    async def on_quota(exc: ZaloQuotaExceeded) -> None:
        alerts.append(exc)

    seen = Seen()
    await run_until(bot_client, seen, lambda: bool(alerts), on_quota=on_quota)
    await asyncio.sleep(INTERVAL * 3)
    assert alerts and alerts[0].backoff_seconds == 3600
    assert len(fake_bot.call_times("getUpdates")) == 1  # no per-second retry on a quota


async def test_server_errors_are_retried(fake_bot: FakeZaloBot, bot_client: ZaloBotClient) -> None:
    fake_bot.fail_next("getUpdates", 403)  # "Internal server error" on this platform
    await fake_bot.inject_message("u1", "vẫn đến")
    seen = Seen()
    await run_until(bot_client, seen, lambda: bool(seen.applied))
    assert seen.applied == ["vẫn đến"]
