"""The web console: coordinators' dashboard and admins' work in a browser (aiohttp + Jinja2).

``build_app`` makes the aiohttp application; ``start_console`` / ``stop_console`` run it beside
the bot in ``papi-bot run``; ``papi-bot web`` runs it alone (bot/cli/web.py).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.web import (
    dashboard,
    evidence,
    exports,
    file_links,
    health,
    invites,
    login,
    people,
    plans,
    units,
)
from bot.web.render import install
from bot.web.security import console_middleware
from bot.web.state import STATE, ConsoleState
from kernel.clock import Clock

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


def console_secret(settings: Settings) -> str:
    """PAPI_BOT_CONSOLE_SECRET, else a random one (sessions and links end with the process)."""
    if settings.secrets.console_secret is not None:
        return settings.secrets.console_secret.get_secret_value()
    log.warning(
        "console: PAPI_BOT_CONSOLE_SECRET is not set; sign-ins and download links "
        "last only until this process stops"
    )
    return secrets.token_urlsafe(32)


def base_url(settings: Settings) -> str:
    return settings.web.base_url


def build_app(
    engine: Engine, settings: Settings, clock: Clock, *, secret: str | None = None
) -> web.Application:
    max_bytes = int(settings.web.max_upload_mb * 1024 * 1024)
    app = web.Application(middlewares=[console_middleware], client_max_size=max_bytes)
    if not settings.web.public_url:
        settings = settings.model_copy(
            update={"web": settings.web.model_copy(update={"public_url": base_url(settings)})}
        )
    app[STATE] = ConsoleState(
        engine=engine,
        settings=settings,
        clock=clock,
        secret=secret or console_secret(settings),
        upload_dir=settings.app.data_dir / "console-uploads",
    )
    install(app)
    for module in (
        login,
        dashboard,
        exports,
        plans,
        people,
        units,
        invites,
        evidence,
        file_links,
        health,
    ):
        app.add_routes(module.routes)
    app.router.add_static("/static/", STATIC_DIR, name="static")
    return app


async def start_console(engine: Engine, settings: Settings, clock: Clock) -> web.AppRunner | None:
    """Serve the console at ``[web] host:port``; None (and a log line) when it is off or the
    port cannot be had: the bot goes on without it."""
    if not settings.web.enabled:
        return None
    runner = web.AppRunner(build_app(engine, settings, clock), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.web.host, settings.web.port)
    try:
        await site.start()
    except OSError as exc:
        log.warning(
            "console: cannot listen on %s:%s (%s)",
            settings.web.host,
            settings.web.port,
            exc.strerror,
        )
        await runner.cleanup()
        return None
    log.info("console: %s", base_url(settings))
    return runner


async def stop_console(runner: web.AppRunner | None) -> None:
    if runner is not None:
        await runner.cleanup()


async def alongside(
    work: Awaitable[None], engine: Engine, settings: Settings, clock: Clock
) -> None:
    """Run ``work`` (the bot) with the console served beside it; the console stops with it."""
    runner = await start_console(engine, settings, clock)
    try:
        await work
    finally:
        await stop_console(runner)
