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
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import IO, Any, Protocol, TextIO

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import metrics
from bot.channels import menu
from bot.channels.base import StartupError
from bot.channels.console import ConsoleChannel, run_console
from bot.channels.kind import ChannelDeps, RunningChannel
from bot.channels.registry import ChannelRegistry, default_registry
from bot.channels.seats import check_units
from bot.channels.webhook_hub import WebhookHub
from bot.config import Settings
from bot.dbthreads import DatabaseThreads, database_threads
from bot.logjson import JsonFormatter
from bot.outbox import OutboxWorker
from bot.pipeline import apply_inbound
from bot.reports.jobs import ReportWorker
from bot.roles import PARTS, Role, scheduler_for, serve_scheduler
from bot.routing import Routing
from bot.scheduler.leader import elected_scheduler
from handlers.types import Inbound
from kernel.clock import Clock
from kernel.i18n import _
from kernel.phones import redact_phones
from storage.queue import QueuedRow

log = logging.getLogger("papi_bot")

STOP_GRACE_SECONDS = 10.0


__all__ = ["StartupError", "main", "serve", "serve_console", "serve_telegram"]


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes secrets and phone numbers (tracebacks included)."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record), self._secrets)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<secret>")
    return redact_phones(text)


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.secrets.telegram_bot_token,
        settings.secrets.telegram_webhook_secret,
        settings.secrets.zalo_bot_token,
        settings.secrets.zalo_webhook_secret,
        settings.secrets.zalo_oa_app_secret,
        settings.secrets.zalo_oa_secret_key,
        settings.secrets.zalo_oa_refresh_token,
        settings.secrets.console_secret,
        *settings.secrets.zalo_bot_tokens.values(),
        *settings.secrets.zalo_bot_webhook_secrets.values(),
    ]
    return [value.get_secret_value() for value in values if value is not None]


def configure_logging(
    settings: Settings, *, level: int = logging.INFO, stream: IO[str] | None = None
) -> None:
    """Log lines to stderr, with the tokens and phone numbers taken out."""
    handler = logging.StreamHandler(stream or sys.stderr)
    secrets = _secrets(settings)
    handler.setFormatter(
        JsonFormatter(lambda text: redact_text(text, secrets))
        if settings.app.log_format == "json"
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # one line per update is noise


class Wakeable(Protocol):
    def wake(self) -> None: ...

    def offer(self, rows: Sequence[QueuedRow]) -> None: ...


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


def inbound_applier(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    worker: Wakeable,
    registry: ChannelRegistry | None = None,
    on_report: Callable[[], None] | None = None,
    database: DatabaseThreads | None = None,
) -> Callable[[Inbound], Awaitable[list[int] | None]]:
    """Apply an inbound in a thread of ``database`` (the pipeline is synchronous SQL; None:
    asyncio's default threads), then hand the answer to the worker: the rows first in their
    chats as they are (``offer``), and a ``wake`` to read the others. On a channel without
    buttons, a menu choice ("2") first becomes its button's payload."""
    registry = registry or default_registry(settings)
    # Messages to officials may go to any declared channel, not only the ones run here.
    routing = Routing.from_settings(settings)

    def menu_channel(name: str) -> bool:
        return name in registry and registry.capabilities(name, settings).numbered_menus

    def apply_sync(inbound: Inbound) -> tuple[list[int] | None, list[QueuedRow]]:
        now = clock.now()
        if menu_channel(inbound.channel):
            resolved = menu.resolve(engine, inbound, now)
            if resolved is None:  # a stale choice, answered with the current menu
                return [], []
            inbound = resolved
        limit = None
        if inbound.channel in registry:
            limit = registry.capabilities(inbound.channel, settings).text_limit
        handed: list[QueuedRow] = []
        ids = apply_inbound(
            engine,
            inbound,
            settings,
            now,
            text_limit=limit,
            on_report=on_report,
            routing=routing,
            handover=handed.extend,
        )
        return ids, handed

    async def apply(inbound: Inbound) -> list[int] | None:
        metrics.update_received(inbound.channel)
        if database is not None:
            ids, handed = await database.run(apply_sync, inbound)
        else:
            loop = asyncio.get_running_loop()
            ids, handed = await loop.run_in_executor(None, apply_sync, inbound)
        if ids is None:
            return None
        if handed:
            worker.offer(handed)
        if not ids or len(handed) < len(ids):  # rows to read (or an answer written elsewhere)
            worker.wake()
        return ids

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
    database = database_threads(engine)
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
            reason = redact_text(f"{type(exc).__name__}: {exc}", _secrets(settings))
            raise StartupError(_("stopped on an error: %(reason)s") % {"reason": reason}) from None
        finally:
            scheduler.shutdown(wait=False)
    finally:
        await hub.stop()
        for channel in running:
            await channel.close()
        database.close()


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
