"""The composition root: builds storage, channels, the outbox worker and the scheduler, runs them.

With ``TELEGRAM_BOT_TOKEN`` set, the bot talks on Telegram (long polling or webhook, per
``telegram.mode``); without it, ``papi-bot run`` is a terminal chat on demo data (the console
channel). Either way every reply goes through the outbox, and SIGTERM/SIGINT stop it cleanly:
receiving stops first, the worker finishes the message in flight, the HTTP session closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import IO, Any

from sqlalchemy.engine import Engine

from bot.channels.telegram import TelegramChannel, TelegramReceiver, make_bot, map_error
from bot.config import Settings
from bot.outbox import OutboxWorker
from bot.pipeline import apply_inbound
from handlers.types import Inbound
from kernel.clock import Clock
from kernel.phones import redact_phones

log = logging.getLogger("papi_bot")

STOP_GRACE_SECONDS = 10.0


class StartupError(Exception):
    """The bot cannot start or go on (wrong or revoked token, unreachable Bot API,
    incomplete webhook configuration); the message says which, without the token."""


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
        settings.secrets.console_secret,
    ]
    return [value.get_secret_value() for value in values if value is not None]


def configure_logging(
    settings: Settings, *, level: int = logging.INFO, stream: IO[str] | None = None
) -> None:
    """Log lines to stderr, with the tokens and phone numbers taken out."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", _secrets(settings))
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # one line per update is noise


def inbound_applier(
    engine: Engine, settings: Settings, clock: Clock, worker: OutboxWorker
) -> Callable[[Inbound], Awaitable[list[int] | None]]:
    """Apply an inbound in a thread (the pipeline is synchronous SQL), then wake the worker."""

    async def apply(inbound: Inbound) -> list[int] | None:
        ids = await asyncio.to_thread(apply_inbound, engine, inbound, settings, clock.now())
        if ids:
            worker.wake()
        return ids

    return apply


def _start_scheduler(
    engine: Engine, settings: Settings, clock: Clock, worker: OutboxWorker
) -> Any | None:
    """The reminder scheduler (``bot.scheduler.jobs.build_scheduler``), started; None if the
    scheduler is not installed."""
    build = None
    for name in ("bot.scheduler.jobs", "bot.scheduler"):
        try:
            build = getattr(importlib.import_module(name), "build_scheduler", None)
        except ImportError:
            continue
        if build is not None:
            break
    if build is None:
        log.warning("scheduler: build_scheduler not found; reminders are off")
        return None
    scheduler = build(engine, settings, clock, worker.wake)
    scheduler.start()
    return scheduler


async def _until_stopped(
    stop: asyncio.Event, receiving: Coroutine[Any, Any, None], worker: OutboxWorker
) -> None:
    """Receive and send until ``stop`` is set or either ends (its error is raised again).

    On the way out receiving stops first; the worker finishes the sends in flight (so no
    claimed row is left for a resend at the next start) for at most ``STOP_GRACE_SECONDS``.
    """
    receiver = asyncio.create_task(receiving)
    sender = asyncio.create_task(worker.run())
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([receiver, sender, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        receiver.cancel()
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
    for task in (receiver, sender):
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def serve_telegram(
    engine: Engine, settings: Settings, clock: Clock, token: str, stop: asyncio.Event
) -> None:
    """Telegram + outbox worker + scheduler until ``stop`` is set."""
    bot = make_bot(token, settings.telegram.api_base)
    try:
        try:  # a wrong token or base URL fails here, before anything else
            me = await bot.get_me()
        except Exception as exc:
            reason = map_error(exc, token)
            raise StartupError(
                f"cannot reach the Bot API at {settings.telegram.api_base}: {reason}"
            ) from None
        log.info("telegram: connected as @%s (%s mode)", me.username, settings.telegram.mode)
        worker = OutboxWorker(engine, {"telegram": TelegramChannel(bot)}, settings, clock)
        receiver = TelegramReceiver(bot, inbound_applier(engine, settings, clock, worker), clock)
        if settings.telegram.mode == "webhook":
            secret = settings.secrets.telegram_webhook_secret
            if secret is None or not settings.telegram.webhook_url:
                raise StartupError(
                    "webhook mode needs telegram.webhook_url and TELEGRAM_WEBHOOK_SECRET"
                )
            receiving = receiver.serve_webhook(
                url=settings.telegram.webhook_url,
                host=settings.telegram.webhook_host,
                port=settings.telegram.webhook_port,
                secret=secret.get_secret_value(),
            )
        else:
            receiving = receiver.poll(stop=stop)
        scheduler = _start_scheduler(engine, settings, clock, worker)
        try:
            await _until_stopped(stop, receiving, worker)
        except Exception as exc:  # e.g. the token was revoked while running
            log.exception("the bot stopped on an error")
            raise StartupError(f"stopped on an error: {map_error(exc, token)}") from None
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
    finally:
        await bot.session.close()


async def serve_console(
    engine: Engine, settings: Settings, clock: Clock, stdin: IO[str], stdout: IO[str]
) -> None:
    """The terminal chat on demo data (the console channel's own loop)."""
    console = importlib.import_module("bot.channels.console")
    channel = console.ConsoleChannel(stdout)
    worker = OutboxWorker(engine, {"console": channel}, settings, clock)
    try:
        await console.run_console(engine, settings, clock, stdin, stdout, worker.drain)
    finally:
        worker.close()


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)


async def main(
    engine: Engine, settings: Settings, clock: Clock, stdin: IO[str], stdout: IO[str]
) -> None:
    token = settings.secrets.telegram_bot_token
    if token is None:
        await serve_console(engine, settings, clock, stdin, stdout)
        return
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await serve_telegram(engine, settings, clock, token.get_secret_value(), stop)
    log.info("stopped")
