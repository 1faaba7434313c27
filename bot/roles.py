"""What one ``papi-bot run`` process does: ``--role web|worker|scheduler|all``.

On PostgreSQL the parts of the bot can run in separate processes: web processes receive
updates (polling or webhooks) and write replies to the outbox; workers send the outbox
(claims are leases, so several share it); the scheduler runs the sweep and the digests, one
at a time by an advisory-lock election, so several may be started for failover. SQLite is
one process by design: there only ``all`` is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.scheduler.leader import elected_scheduler
from kernel.clock import Clock


class Role(StrEnum):
    ALL = "all"
    WEB = "web"
    WORKER = "worker"
    SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Parts:
    receives: bool  # channels take updates in; the console is served
    sends: bool  # the outbox worker runs
    schedules: bool  # the (elected) scheduler runs


PARTS = {
    Role.ALL: Parts(receives=True, sends=True, schedules=True),
    Role.WEB: Parts(receives=True, sends=False, schedules=False),
    Role.WORKER: Parts(receives=False, sends=True, schedules=False),
    Role.SCHEDULER: Parts(receives=False, sends=False, schedules=True),
}


def role_allowed(role: Role, engine: Engine) -> bool:
    """SQLite has one process: only ``all``."""
    return role is Role.ALL or engine.dialect.name == "postgresql"


class NoScheduler:
    """The scheduler of a process that does not schedule."""

    def start(self) -> None:
        return None

    def shutdown(self, wait: bool = False) -> None:
        return None


def scheduler_for(role: Role) -> Any:
    """The ``scheduler_factory`` for ``bot.app.serve`` in this role."""
    if PARTS[role].schedules:
        return elected_scheduler
    return lambda *_args: NoScheduler()


async def serve_scheduler(
    engine: Engine, settings: Settings, clock: Clock, stop: asyncio.Event
) -> None:
    """The scheduler role: no channel, only the election and, when leading, the jobs.
    New rows are sent by the workers, which poll the outbox every few seconds."""
    scheduler = elected_scheduler(engine, settings, clock, lambda: None)
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)  # let the election release its lock
