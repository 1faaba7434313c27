"""CLI command ``run``: the bot service (every channel whose secrets are set, else the
console chat). The settings and the engine come from this invocation's ``CliContext``; the
service itself is composed in ``bot.app``."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from bot.cli.common import echo, engine, fail, settings
from kernel.clock import SystemClock
from kernel.i18n import CatalogMissing, _, check_catalogs, use_locale


def run(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log debug lines")] = False,
    role: Annotated[
        str, typer.Option("--role", help="web, worker, scheduler or all (PostgreSQL only: not all)")
    ] = "all",
    log_json: Annotated[
        bool, typer.Option("--log-json", help="log one JSON object a line")
    ] = False,
) -> None:
    """Run the bot: Telegram when TELEGRAM_BOT_TOKEN is set, else a chat in this terminal."""
    import asyncio

    from bot import app, web  # aiogram is imported only when the bot really runs
    from bot.channels.registry import default_registry
    from bot.logsetup import configure_logging
    from bot.roles import PARTS, Role, role_allowed
    from storage.db import make_engine, session_scope, upgrade
    from storage.taxonomy import sync_taxonomy

    try:
        check_catalogs()  # a wheel without its catalogs must not run speaking message ids
    except CatalogMissing as exc:
        fail(str(exc))
    config = settings(ctx)
    if log_json:
        config = config.model_copy(
            update={"app": config.app.model_copy(update={"log_format": "json"})}
        )
    registry = default_registry(config)
    with use_locale(config.app.default_locale):
        # The console chat shares the terminal: only warnings unless asked for more.
        quiet = logging.INFO if registry.enabled(config) else logging.WARNING
        configure_logging(config, level=logging.DEBUG if verbose else quiet)
        if role not in {item.value for item in Role}:
            fail(_("--role must be one of: web, worker, scheduler, all"))
        chosen = Role(role)
        if registry.enabled(config) or chosen is not Role.ALL:
            db = engine(ctx)
            if not role_allowed(chosen, db):
                fail(
                    _(
                        "--role %(role)s needs PostgreSQL: SQLite is one process, "
                        "run it with --role all"
                    )
                    % {"role": role}
                )
        else:  # the console demo: a database of its own, the configured one is never opened
            from bot.demo import demo_database_url  # it loads the plan reader for the demo plan

            url = demo_database_url(config.database.url)
            db = make_engine(url)
            echo(
                _("Demo mode: its data is in %(url)s; your database is not touched.") % {"url": url}
            )
        try:
            upgrade(db)  # idempotent: a fresh install needs no separate `init`
            with session_scope(db) as session:
                sync_taxonomy(session)
        except Exception as exc:
            fail(_("cannot open the database: %(error)s") % {"error": type(exc).__name__})
        try:
            clock = SystemClock()
            bot_run = app.main(
                db, config, clock, sys.stdin, sys.stdout, registry=registry, role=chosen
            )
            if PARTS[chosen].receives:
                asyncio.run(web.alongside(bot_run, db, config, clock))  # + the web console
            else:  # a worker or the scheduler: no console, several may share a host
                asyncio.run(bot_run)
        except KeyboardInterrupt:
            pass
        except app.StartupError as exc:
            fail(_("papi-bot cannot run: %(error)s") % {"error": str(exc)})
        echo(_("papi-bot stopped."))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("run")(run)
