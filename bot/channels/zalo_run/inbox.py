"""The durable inbox in use: ``store`` (what a webhook handler or the poller awaits before it
answers) and ``InboxWorker`` (applies the stored updates, oldest first, then marks them).

The worker starts with the rows a previous process stored but did not finish (a crash after
the 200), then waits to be woken by ``store`` (or at most ``IDLE_SECONDS``). An update whose
processing raises is logged and marked, so one bad update cannot block the others; a send it
caused goes through the outbox, which retries on its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import Engine

from kernel.clock import Clock
from storage.db import session_scope
from storage.inbox import StoredUpdate, mark_processed, pending_updates, store_update

log = logging.getLogger("papi_bot")

IDLE_SECONDS = 5.0
ProcessFn = Callable[[dict[str, Any]], Awaitable[None]]
KeyFn = Callable[[dict[str, Any]], str]


class Inbox:
    """The inbox of one channel: ``store`` before the 200, ``run`` to apply."""

    def __init__(self, engine: Engine, channel: str, key: KeyFn, clock: Clock) -> None:
        self.engine = engine
        self.channel = channel
        self._key = key
        self._clock = clock
        self._wake = asyncio.Event()

    def _store_sync(self, event: dict[str, Any]) -> bool:
        with session_scope(self.engine) as session:
            return store_update(session, self.channel, self._key(event), event, self._clock.now())

    async def store(self, event: dict[str, Any]) -> bool:
        """Commit ``event`` (once per key); True if it was new. Raises if it could not."""
        fresh = await asyncio.to_thread(self._store_sync, event)
        self._wake.set()
        return fresh

    def _pending(self) -> list[StoredUpdate]:
        with session_scope(self.engine) as session:
            return pending_updates(session, self.channel)

    def _done(self, row_id: int) -> None:
        with session_scope(self.engine) as session:
            mark_processed(session, row_id, self._clock.now())

    async def run(self, process: ProcessFn, stop: asyncio.Event) -> None:
        """Apply stored updates until ``stop`` is set (or the task is cancelled)."""
        while not stop.is_set():
            self._wake.clear()
            rows = await asyncio.to_thread(self._pending)
            for row in rows:
                try:
                    await process(row.body)
                except Exception:  # logged without the body: it may hold a phone number
                    log.exception("%s: processing update %s failed", self.channel, row.id)
                await asyncio.to_thread(self._done, row.id)
            if rows:
                continue  # more may be waiting
            waker = asyncio.create_task(self._wake.wait())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait(
                {waker, stopper}, timeout=IDLE_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            waker.cancel()
            stopper.cancel()
