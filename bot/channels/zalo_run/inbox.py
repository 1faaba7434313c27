"""The durable inbox in use: ``store`` (what a webhook handler or the poller awaits before it
answers) and ``InboxWorker`` (applies the stored updates, oldest first, then marks them).

The worker starts with the rows a previous process stored but did not finish (a crash after
the 200), then waits to be woken by ``store`` (or at most ``IDLE_SECONDS``). An update whose
processing fails is retried, in order (a chat's "50%" never overtakes its "xong"), after a
pause that doubles up to ``MAX_RETRY_SECONDS``: for as long as it takes when the database is
away (it used to be marked processed at once, and an official's reply was lost whenever the
database process died mid-job), at most ``bot.attempts.LIMIT`` times when the update itself
fails — then it is logged at ERROR (its row id and the error's type, never its content) and
marked, so one bad update holds the others back for seconds, not for good. A send it caused
goes through the outbox, which retries on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import Engine

from bot.attempts import Attempts, is_transient
from kernel.clock import Clock
from storage.db import session_scope
from storage.inbox import StoredUpdate, mark_processed, pending_updates, store_update

log = logging.getLogger("papi_bot")

IDLE_SECONDS = 5.0
RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
ProcessFn = Callable[[dict[str, Any]], Awaitable[None]]
KeyFn = Callable[[dict[str, Any]], str]


class Inbox:
    """The inbox of one channel: ``store`` before the 200, ``run`` to apply."""

    def __init__(
        self,
        engine: Engine,
        channel: str,
        key: KeyFn,
        clock: Clock,
        *,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self._key = key
        self._clock = clock
        self._wake = asyncio.Event()
        self._retry_seconds = retry_seconds
        self._attempts = Attempts()

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
        pause = self._retry_seconds
        while not stop.is_set():
            self._wake.clear()
            try:
                rows = await asyncio.to_thread(self._pending)
                done = await self._apply_in_order(rows, process)
            except Exception as exc:  # reading or marking the rows: the database is away
                if not is_transient(exc):
                    raise
                log.warning("%s: the inbox cannot be read (%s)", self.channel, type(exc).__name__)
                rows, done = [], False
            if not done:  # the row that failed and every later one come again, after a pause
                await _pause(pause, stop)
                pause = min(pause * 2, MAX_RETRY_SECONDS)
                continue
            pause = self._retry_seconds
            if rows:
                continue  # more may be waiting
            waker = asyncio.create_task(self._wake.wait())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait(
                {waker, stopper}, timeout=IDLE_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            waker.cancel()
            stopper.cancel()

    async def _apply_in_order(self, rows: list[StoredUpdate], process: ProcessFn) -> bool:
        """Each row in order, up to the first to be tried again; False if there is one."""
        for row in rows:
            if not await self._apply(row, process):
                return False
        return True

    async def _apply(self, row: StoredUpdate, process: ProcessFn) -> bool:
        """Process one row and mark it; False if it is to be tried again (left unmarked)."""
        key = str(row.id)
        try:
            await process(row.body)
        except Exception as exc:  # logged without the body: it may hold a phone number
            if not self._attempts.give_up(key, exc):
                log.warning(
                    "%s: update %s not applied (%s); trying again",
                    self.channel,
                    row.id,
                    type(exc).__name__,
                )
                return False
            log.error(
                "%s: update %s failed to apply %d times (%s); marked processed and skipped",
                self.channel,
                row.id,
                self._attempts.limit,
                type(exc).__name__,
            )
        else:
            self._attempts.applied(key)
        await asyncio.to_thread(self._done, row.id)
        return True


async def _pause(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
