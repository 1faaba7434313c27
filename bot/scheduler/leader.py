"""Exactly one scheduler among many processes: a PostgreSQL advisory lock held on a
dedicated connection for as long as the process leads.

Every process that may schedule runs an :class:`Election`: it tries
``pg_try_advisory_lock`` every ``retry_seconds``; the one that gets it starts the sweep and
the digests, and checks its connection at the same pace. When the leader dies its session
ends, PostgreSQL drops the lock, and another process takes it at its next try (well within a
minute). Should a leader lose its connection while it still runs, it stops scheduling at its
next check; in the short overlap the reminder log's unique keys still keep any reminder from
being written twice. SQLite has one process, which simply leads (:class:`Direct`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot import metrics
from bot.config import Settings
from bot.scheduler.jobs import build_scheduler
from kernel.clock import Clock

log = logging.getLogger("bot.scheduler")

# pg_try_advisory_lock(bigint) key: "papischd" in ASCII, fixed so every process agrees.
SCHEDULER_LOCK_KEY = 0x7061_7069_7363_6864
RETRY_SECONDS = 10.0

Starter = Callable[[], Any]  # builds and starts a scheduler; the result has .shutdown(wait=)


def process_identity() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class Election:
    """Lead (run ``start``'s scheduler) while this process holds the advisory lock."""

    def __init__(
        self,
        engine: Engine,
        start: Starter,
        *,
        identity: str | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.engine = engine
        self.start_scheduler = start
        self.identity = identity or process_identity()
        self.retry_seconds = retry_seconds
        self.leading = False
        self._connection: Connection | None = None
        self._scheduler: Any = None
        self._task: asyncio.Task[None] | None = None

    def _try_lock(self) -> bool:
        """One try on a connection of its own (autocommit: no transaction stays open)."""
        try:
            if self._connection is None:
                self._connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            got = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY}
            ).scalar()
        except SQLAlchemyError:
            self._drop_connection()
            return False
        return bool(got)

    def _still_held(self) -> bool:
        try:
            assert self._connection is not None
            self._connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, AssertionError):
            self._drop_connection()
            return False
        return True

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.invalidate()  # a broken session never goes back to the pool
                self._connection.close()
            self._connection = None

    def _release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEDULER_LOCK_KEY}
                )
                self._connection.close()
            self._connection = None

    def _lead(self) -> None:
        self.leading = True
        metrics.LEADERSHIP.became_leader(self.identity)
        log.info("scheduler: %s leads the sweep and the digests", self.identity)
        self._scheduler = self.start_scheduler()

    def _step_down(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self.leading:
            log.warning("scheduler: %s is no longer the leader", self.identity)
        self.leading = False
        metrics.LEADERSHIP.stepped_down()

    async def run(self) -> None:
        """Try, lead, check, until cancelled; the lock is released on the way out."""
        try:
            while True:
                if not self.leading:
                    if await asyncio.to_thread(self._try_lock):
                        self._lead()
                elif not await asyncio.to_thread(self._still_held):
                    self._step_down()
                await asyncio.sleep(self.retry_seconds)
        finally:
            self._step_down()
            await asyncio.to_thread(self._release)

    # The scheduler interface bot.app.serve expects: start() and shutdown(wait=...).
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    def shutdown(self, wait: bool = False) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


class Direct:
    """SQLite (one process): the scheduler simply runs here."""

    def __init__(self, start: Starter) -> None:
        self.start_scheduler = start
        self._scheduler: Any = None

    def start(self) -> None:
        self._scheduler = self.start_scheduler()
        metrics.LEADERSHIP.became_leader(process_identity())

    def shutdown(self, wait: bool = False) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=wait)
            self._scheduler = None
        metrics.LEADERSHIP.stepped_down()


def elected_scheduler(
    engine: Engine, settings: Settings, clock: Clock, on_enqueued: Callable[[], None]
) -> Election | Direct:
    """The scheduler of ``bot.app.serve``: elected on PostgreSQL, direct on SQLite."""

    def start() -> Any:
        scheduler = build_scheduler(engine, settings, clock, on_enqueued)
        scheduler.start()
        return scheduler

    if engine.dialect.name == "postgresql":
        return Election(engine, start)
    return Direct(start)
