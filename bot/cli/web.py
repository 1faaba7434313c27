"""CLI commands ``web`` (the console alone) and ``console-login PHONE`` (a first sign-in code)."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import echo, fail, require_database, settings
from kernel.clock import SystemClock
from kernel.i18n import _, use_locale
from kernel.phones import mask_phone

if TYPE_CHECKING:  # the settings' models and storage are loaded by the commands themselves
    from sqlalchemy.engine import Engine

    from bot.config import Settings


def web_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="address to listen on ([web] host)")] = None,
    port: Annotated[int | None, typer.Option(help="port ([web] port)")] = None,
) -> None:
    """Run the web console alone (no chat channel), until Ctrl+C."""
    import asyncio

    from bot import app as bot_app
    from bot import web
    from bot.logsetup import configure_logging

    config = settings(ctx)
    changes = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    if changes:
        config = config.model_copy(update={"web": config.web.model_copy(update=changes)})
    with use_locale(config.app.default_locale):
        configure_logging(config, level=logging.INFO)
        db = require_database(ctx)

        async def serve() -> None:
            runner = await web.start_console(db, config, SystemClock())
            if runner is None:
                fail(
                    _("cannot serve the console on %(host)s:%(port)s")
                    % {"host": config.web.host, "port": config.web.port}
                )
            echo(_("Console: %(url)s") % {"url": web.base_url(config)})
            stop = asyncio.Event()
            bot_app.install_signal_handlers(stop)
            try:
                await stop.wait()
            finally:
                await web.stop_console(runner)

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve())


def _demo_engine(config: Settings) -> Engine:
    """The database the console demo of ``papi-bot run`` uses (never the configured one)."""
    from bot.demo import demo_database_url
    from storage.db import is_current, make_engine

    db = make_engine(demo_database_url(config.database.url))
    if not is_current(db):
        fail(_("there is no demo database yet: start the demo first (papi-bot run, no token)"))
    return db


def console_login(
    ctx: typer.Context,
    phone: Annotated[str, typer.Argument(help="the coordinator's or admin's mobile number")],
    demo: Annotated[
        bool, typer.Option("--demo", help="in the demo's own database (papi-bot run, no token)")
    ] = False,
) -> None:
    """Print a one-time console sign-in code (for the first admin, before any chat is linked)."""
    from storage.console import create_login_code, may_use_console
    from storage.db import session_scope
    from storage.officials import get_official_by_phone

    config = settings(ctx)
    with use_locale(config.app.default_locale):
        db = _demo_engine(config) if demo else require_database(ctx)
        with session_scope(db) as session:
            try:
                official = get_official_by_phone(session, phone)
            except ValueError as exc:
                fail(str(exc))
            if official is None:
                fail(_("no official with this phone number"))
            if not may_use_console(official):
                fail(_("only active coordinators and admins can sign in to the console"))
            code = create_login_code(session, official, SystemClock().now())
        echo(
            _("Sign-in code for %(name)s (%(phone)s): %(code)s — valid for 10 minutes at %(url)s")
            % {
                "name": official.name,
                "phone": mask_phone(official.phone),
                "code": code,
                "url": config.web.base_url + "/login",
            }
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("web")(web_command)
    app.command("console-login")(console_login)
