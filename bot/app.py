"""The composition root: builds the channels, the outbox worker and the scheduler, runs them.

Which channels run is chosen by the secrets that are set (``ChannelRegistry.enabled``):
Telegram with ``TELEGRAM_BOT_TOKEN``, Zalo Bot with ``ZALO_BOT_TOKEN``, Zalo OA with
``ZALO_OA_APP_ID`` — several at once, each optional; the Zalo webhooks share one server
(``bot.channels.webhook_hub``). With none, ``papi-bot run`` is a terminal chat on demo data (the
console channel). Every reply goes through the one outbox worker, which sends on every
running channel within its declared limits. SIGTERM/SIGINT stop it cleanly: receiving stops
first, the worker finishes the message in flight, the channels close their sessions.
The CLI (``bot.cli``) builds the settings and the engine and hands them here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, TextIO

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import metrics
from bot.applier import Applier, ChannelFacts
from bot.channels.base import StartupError
from bot.channels.console import ConsoleChannel, run_console
from bot.channels.kind import ChannelDeps, RunningChannel
from bot.channels.registry import ChannelRegistry, default_registry
from bot.channels.seats import check_units
from bot.channels.webhook_hub import WebhookHub
from bot.config import Settings
from bot.dbprocess import hot_path_database
from bot.dbthreads import Database
from bot.logsetup import redact_text, secrets_of
from bot.outbox import OutboxWorker
from bot.reports.jobs import ReportWorker
from bot.roles import PARTS, Role, scheduler_for, serve_scheduler
from bot.scheduler.leader import elected_scheduler
from handlers.types import Inbound
from kernel.clock import Clock
from kernel.i18n import _
from storage.queue import ClaimTerms, QueuedRow

log = logging.getLogger("papi_bot")

STOP_GRACE_SECONDS = 10.0


__all__ = ["StartupError", "main", "serve", "serve_console", "serve_telegram"]


class Wakeable(Protocol):
    def wake(self) -> None: ...

    def offer(self, rows: Sequence[QueuedRow]) -> None: ...

    def claims(self) -> ClaimTerms | None: ...


class _WakeLater:
    """The worker's ``wake`` and ``offer`` before the worker exists (channels start first)."""

    def __init__(self) -> None:
        self.worker: Wakeable | None = None

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def offer(self, rows: Sequence[QueuedRow]) -> None:
        if self.worker is not None:
            self.worker.offer(rows)

    def claims(self) -> ClaimTerms | None:
        return self.worker.claims() if self.worker is not None else None


def inbound_applier(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    worker: Wakeable,
    registry: ChannelRegistry | None = None,
    on_report: Callable[[], None] | None = None,
    database: Database | None = None,
) -> Callable[[Inbound], Awaitable[list[int] | None]]:
    """Apply an inbound where ``database`` runs the hot path's database work (the pipeline
    is synchronous SQL; None: asyncio's default threads), then hand the answer to the
    worker: the rows first in their chats as they are (``offer``; claimed for it in the
    answer's transaction while it runs, ``claims``), and a ``wake`` to read the others. On
    a channel without buttons, a menu choice ("2") first becomes its button's payload
    (``bot.applier``)."""
    facts = ChannelFacts.of(settings, registry or default_registry(settings))
    applier = Applier(engine, settings, facts)

    async def apply(inbound: Inbound) -> list[int] | None:
        metrics.update_received(inbound.channel)
        claim = worker.claims()
        if database is not None:
            applied = await database.run(applier.apply, inbound, clock.now(), claim)
        else:
            loop = asyncio.get_running_loop()
            applied = await loop.run_in_executor(None, applier.apply, inbound, clock.now(), claim)
        if applied.report and on_report is not None:
            on_report()
        if applied.ids is None:
            return None
        if applied.handed:
            worker.offer(applied.handed)
        if not applied.ids or len(applied.handed) < len(applied.ids):  # rows to read
            worker.wake()  # (or an answer written elsewhere)
        return applied.ids

    return apply


async def _until_stopped(
    stop: asyncio.Event,
    receiving: Sequence[Coroutine[Any, Any, None]],
    worker: OutboxWorker,
    sends: bool = True,
) -> None:
    """Receive and send until ``stop`` is set or any loop ends (its error is raised again).

    On the way out receiving stops first; the worker finishes the sends in flight (so no
    claimed row is left for a resend at the next start) for at most ``STOP_GRACE_SECONDS``.
    """
    receivers = [asyncio.create_task(loop) for loop in receiving]
    sender = asyncio.create_task(worker.run() if sends else stop.wait())  # web role: no sends
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*receivers, sender, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for receiver in receivers:
            receiver.cancel()
        for receiver in receivers:
            with contextlib.suppress(asyncio.CancelledError):
                await receiver
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(sender), STOP_GRACE_SECONDS)
        sender.cancel()
        stopper.cancel()
        for task in (sender, stopper):
            with contextlib.suppress(asyncio.CancelledError):
                await task
    for task in (*receivers, sender):
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


SchedulerFactory = Callable[[Engine, Settings, Clock, Callable[[], None]], Any]


async def serve(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    stop: asyncio.Event,
    *,
    registry: ChannelRegistry | None = None,
    scheduler_factory: SchedulerFactory = elected_scheduler,
    role: Role = Role.ALL,
) -> None:
    """Every enabled platform channel + the outbox worker + the scheduler, until ``stop``."""
    registry = registry or default_registry(settings)
    for kind in registry.declared_but_missing(settings):
        log.warning("%s: its secrets are set, but its adapter is not installed yet", kind.name)
    for note in registry.disabled_notes(settings):
        log.warning("%s", note)
    with Session(engine) as session:  # a bot bound to a unit that does not exist: stop here
        check_units(session, settings)
    waker = _WakeLater()
    hub = WebhookHub(settings.zalo.webhook_host, settings.zalo.webhook_port)  # Zalo's webhooks
    reports = ReportWorker(engine, settings, clock.now, waker.wake)  # /baocao after the commit
    database = hot_path_database(engine, settings, clock)
    applier = inbound_applier(
        engine, settings, clock, waker, registry, reports.wake_threadsafe, database.pipeline
    )
    deps = ChannelDeps(settings, clock, applier, engine=engine, hub=hub)
    running: list[RunningChannel] = []
    try:
        for kind in registry.enabled(settings):
            assert kind.start is not None  # enabled() lists only channels with an adapter
            running.append(await kind.start(deps))
        if not running:
            raise StartupError(_("no channel to run: set TELEGRAM_BOT_TOKEN"))
        hub.started()  # every webhook route is there: an unknown path is a 404 from now on
        senders = {channel.name: channel.sender for channel in running}
        worker = OutboxWorker(
            engine, senders, settings, clock, registry=registry, database=database.outbox
        )
        waker.worker = worker
        make = scheduler_factory if PARTS[role].schedules else scheduler_for(role)
        scheduler = make(engine, settings, clock, worker.wake)
        scheduler.start()
        try:
            parts = PARTS[role]  # a worker only sends; a web process only receives
            receiving = [channel.receive(stop) for channel in running] if parts.receives else []
            if parts.receives:  # the process that records /baocao jobs renders them
                receiving.append(reports.run())
            await _until_stopped(stop, receiving, worker, sends=parts.sends)
        except StartupError:
            raise
        except Exception as exc:  # e.g. the token was revoked while running
            log.exception("the bot stopped on an error")
            reason = redact_text(f"{type(exc).__name__}: {exc}", secrets_of(settings))
            raise StartupError(_("stopped on an error: %(reason)s") % {"reason": reason}) from None
        finally:
            scheduler.shutdown(wait=False)
    finally:
        await hub.stop()
        for channel in running:
            await channel.close()
        database.close(wait=True)  # the process's last writes (the sends in flight) are in


async def serve_telegram(
    engine: Engine, settings: Settings, clock: Clock, token: str, stop: asyncio.Event
) -> None:
    """Telegram alone with ``token`` (whatever else the settings enable)."""
    secrets = settings.secrets.model_copy(update={"telegram_bot_token": SecretStr(token)})
    only = settings.model_copy(update={"secrets": secrets})
    telegram = default_registry().kind("telegram")
    await serve(engine, only, clock, stop, registry=ChannelRegistry([telegram]))


async def serve_console(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    stdin: TextIO,
    stdout: TextIO,
    *,
    registry: ChannelRegistry | None = None,
) -> None:
    """The terminal chat on demo data (the console channel's own loop)."""
    worker = OutboxWorker(
        engine, {"console": ConsoleChannel(stdout)}, settings, clock, registry=registry
    )
    try:
        await run_console(engine, settings, clock, stdin, stdout, worker.drain)
    finally:
        worker.close()


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)


async def main(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    stdin: TextIO,
    stdout: TextIO,
    *,
    registry: ChannelRegistry | None = None,
    role: Role = Role.ALL,
) -> None:
    """The platform channels whose secrets are set; with none, the console chat."""
    registry = registry or default_registry(settings)
    if not registry.enabled(settings):
        missing = registry.declared_but_missing(settings)
        if missing:
            names = ", ".join(kind.name for kind in missing)
            raise StartupError(
                _("no adapter yet for the configured channel(s): %(names)s") % {"names": names}
            )
        for note in registry.disabled_notes(settings):  # [[zalo.bots]] without their tokens
            log.warning("%s", note)
        await serve_console(engine, settings, clock, stdin, stdout, registry=registry)
        return
    stop = asyncio.Event()
    install_signal_handlers(stop)
    if role is Role.SCHEDULER:
        await serve_scheduler(engine, settings, clock, stop)
        return
    await serve(engine, settings, clock, stop, registry=registry, role=role)
    log.info("stopped")
