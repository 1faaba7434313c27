"""CLI command ``run``: the bot service (Telegram with a token, else the console chat)."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Annotated

import typer

from bot.cli.common import echo, engine, fail, settings
from bot.demo import demo_database_url
from kernel.clock import SystemClock
from kernel.i18n import CatalogMissing, _, check_catalogs, use_locale
from storage.db import make_engine, session_scope, upgrade
from storage.taxonomy import sync_taxonomy


def run(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log debug lines")] = False,
) -> None:
    """Run the bot: Telegram when TELEGRAM_BOT_TOKEN is set, else a chat in this terminal."""
    from bot import app  # aiogram is imported only when the bot really runs

    try:
        check_catalogs()  # a wheel without its catalogs must not run speaking message ids
    except CatalogMissing as exc:
        fail(str(exc))
    config = settings()
    with use_locale(config.app.default_locale):
        # The console chat shares the terminal: only warnings unless asked for more.
        quiet = logging.INFO if config.secrets.telegram_bot_token else logging.WARNING
        app.configure_logging(config, level=logging.DEBUG if verbose else quiet)
        db = engine()
        if not config.secrets.telegram_bot_token:  # the console demo: a database of its own
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
            asyncio.run(app.main(db, config, SystemClock(), sys.stdin, sys.stdout))
        except KeyboardInterrupt:
            pass
        except app.StartupError as exc:
            fail(_("papi-bot cannot run: %(error)s") % {"error": str(exc)})
        echo(_("papi-bot stopped."))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("run")(run)
