"""What every command needs: settings, the database, and one way to fail (exit code 2).

The root callback (``bot.cli._root``) puts a ``CliContext`` on Typer's context object; each
command takes ``ctx: typer.Context`` and reaches it through ``settings(ctx)``,
``engine(ctx)`` and ``require_database(ctx)``. Nothing is cached at module level: two invocations
in one process (the tests' ``CliRunner``) never share settings or an engine.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from kernel.i18n import _

if TYPE_CHECKING:  # loaded on first use: `papi-bot --help` needs neither (≈ 0.5 s of imports)
    from sqlalchemy.engine import Engine

    from bot.config import Settings

EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    """One clear line on stderr, exit code 2; the caller has written nothing."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@dataclass
class CliContext:
    """One invocation's settings and engine, built on first use and closed at its end."""

    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from bot.config import ConfigError, load_settings

            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                fail(_("config error: %(error)s") % {"error": exc})
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from storage.db import make_engine

            self._engine = make_engine(self.settings.database.url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def install(ctx: typer.Context, config_path: Path | None) -> CliContext:
    """The root callback's part: a fresh ``CliContext`` for this invocation."""
    cli = CliContext(config_path)
    ctx.obj = cli
    ctx.call_on_close(cli.close)
    return cli


def current(ctx: typer.Context) -> CliContext:
    """The ``CliContext`` of the command being run (put there by the root callback)."""
    found = ctx.find_object(CliContext)
    if found is None:
        raise RuntimeError("a papi-bot command run without the root callback")
    return found


def settings(ctx: typer.Context) -> Settings:
    return current(ctx).settings


def engine(ctx: typer.Context) -> Engine:
    return current(ctx).engine


def require_database(ctx: typer.Context) -> Engine:
    """The engine of an initialised, up-to-date database, or a clear failure."""
    from storage.db import is_current

    db = engine(ctx)
    if not is_current(db):  # plain SQL at the head: Alembic costs ≈ 100 ms of imports
        fail(_("the database is not initialised or is out of date: run `papi-bot init` first"))
    return db


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")
