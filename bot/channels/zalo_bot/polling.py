"""Polling ``getUpdates`` — for development only; webhooks are the production mode.

Zalo's ``getUpdates`` is not Telegram's: one update per call, no offset, no acknowledgement,
408 when idle, and already-returned updates are reported to come back later. So this loop
keeps at least ``min_interval`` seconds between the starts of two calls (Zalo answers at once
while its queue is non-empty), treats 408 as idle, backs off for hours on the monthly quota
(429), stops on a refused token (401), and refuses to start while a webhook is set. Dedupe is
the caller's job: ``handle`` gets every update, replays included, and records
``updates.update_key(update)`` in the database. Run one poller per token: two split the
messages between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_bot.errors import (
    ZaloConfigError,
    ZaloQuotaExceeded,
    ZaloServerError,
    ZaloWebhookActive,
)

log = logging.getLogger(__name__)

HandleFn = Callable[[dict[str, Any]], Awaitable[object]]
MAX_ERROR_BACKOFF = 60.0


async def _pause(seconds: float, stop: asyncio.Event) -> None:
    """Sleep, but wake at once when ``stop`` is set."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def poll(
    client: ZaloBotClient,
    handle: HandleFn,
    *,
    stop: asyncio.Event,
    min_interval: float = 1.0,
    poll_seconds: int = 30,
    on_quota: Callable[[ZaloQuotaExceeded], Awaitable[object]] | None = None,
) -> None:
    """Poll until ``stop`` is set. ``handle`` must store the update durably (a failure is
    logged and the loop goes on: Zalo has no acknowledgement to withhold)."""
    if await client.get_webhook_info() is not None:
        raise ZaloWebhookActive("a webhook is set for this bot: delete it before polling")
    error_backoff = 1.0
    last_start = -float("inf")
    while not stop.is_set():
        await _pause(last_start + min_interval - time.monotonic(), stop)
        if stop.is_set():
            break
        last_start = time.monotonic()
        try:
            updates = await client.get_updates(poll_seconds)
        except ZaloConfigError:
            raise  # a wrong token: retrying will not help
        except ZaloQuotaExceeded as exc:
            log.warning("zalo polling: monthly quota exceeded; pausing %.0fs", exc.backoff_seconds)
            if on_quota is not None:
                await on_quota(exc)
            await _pause(exc.backoff_seconds, stop)
            continue
        except ZaloServerError as exc:
            log.warning("zalo polling: %s; retrying in %.0fs", exc, error_backoff)
            await _pause(error_backoff, stop)
            error_backoff = min(error_backoff * 2, MAX_ERROR_BACKOFF)
            continue
        error_backoff = 1.0
        for update in updates:
            try:
                await handle(update)
            except Exception:
                log.exception("zalo polling: handling an update failed")
