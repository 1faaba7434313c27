"""An unreachable database is one clear line and exit code 2, for every command.

The check sits in the root command group, so no command has to remember it: a refused
PostgreSQL connection or an SQLite file that cannot be opened ends the same way as any other
bad input (:func:`bot.cli.common.fail`), with the URL's password hidden.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from bot.cli.common import EXIT_BAD_INPUT, settings
from kernel.i18n import _, use_locale

if TYPE_CHECKING:
    from sqlalchemy.exc import InterfaceError, OperationalError

    from storage.db import MissingDriverError


def _reason(error: OperationalError | InterfaceError) -> str:
    """The driver's own first line ("connection refused", "unable to open database file")."""
    original = str(error.orig) if error.orig is not None else str(error)
    lines = [line.strip() for line in original.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _message(ctx: Any, error: OperationalError | InterfaceError) -> str:
    from sqlalchemy.engine import make_url

    config = settings(ctx)
    url = make_url(config.database.url).render_as_string(hide_password=True)
    with use_locale(config.app.default_locale):
        return _("Cannot reach the database %(url)s: %(reason)s") % {
            "url": url,
            "reason": _reason(error),
        }


class DatabaseSafeGroup(TyperGroup):
    """The root group: a command that cannot reach the database fails like bad input."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = _database_failure(ctx, exc)
            if message is None:
                raise
            typer.echo(message, err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None


def _database_failure(ctx: Any, error: Exception) -> str | None:
    """The line for an unreachable database or a missing driver; None for anything else.

    Each class is imported only when its module is loaded already: an error cannot come from
    SQLAlchemy or storage.db unless the command loaded them, and `--help` needs neither.
    """
    if "sqlalchemy.exc" in sys.modules:
        from sqlalchemy.exc import InterfaceError, OperationalError

        if isinstance(error, (OperationalError, InterfaceError)):
            return _message(ctx, error)
    if "storage.db" in sys.modules:
        from storage.db import MissingDriverError

        if isinstance(error, MissingDriverError):
            return _missing_driver(ctx, error)
    return None


def _missing_driver(ctx: Any, error: MissingDriverError) -> str:
    with use_locale(settings(ctx).app.default_locale):
        return _(
            "The database driver %(module)s is not installed: run pip install 'papi-bot[%(extra)s]'"
        ) % {"module": error.module, "extra": error.extra}
