"""CLI commands ``backup`` and ``restore``: the database copies an IT office keeps.

SQLite is copied with its online backup API (safe while the bot runs); PostgreSQL is left to
its own tools, and the command says how. Heavy imports stay inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import echo, engine, fail, settings
from kernel.i18n import _, use_locale

PG_DUMP_HINT = "pg_dump --format=custom --file=papi-bot.dump '%(url)s'"
PG_RESTORE_HINT = "pg_restore --clean --if-exists --dbname='%(url)s' papi-bot.dump"


def _reason_text(reason: str, path: Path | None, revision: str | None) -> str:
    """The user's words for a :class:`storage.backup.BackupError` reason."""
    values = {"path": str(path), "revision": revision or ""}
    texts = {
        "missing-database": _("the database file %(path)s does not exist"),
        "exists": _("%(path)s already exists; choose another --out"),
        "missing-folder": _("the folder %(path)s does not exist"),
        "missing-file": _("the file %(path)s does not exist"),
        "not-papi-bot": _("%(path)s is not a papi-bot database"),
        "unknown-revision": _(
            "%(path)s is at revision %(revision)s, which this version of papi-bot does not know"
        ),
    }
    return texts.get(reason, reason) % values


def _postgres_hint(url: str, restore: bool) -> str:
    from sqlalchemy.engine import make_url

    # pg_dump speaks libpq URLs: drop SQLAlchemy's "+psycopg" and hide the password.
    shown = make_url(url).set(drivername="postgresql").render_as_string(hide_password=True)
    if restore:
        return _(
            "This database is PostgreSQL: stop every papi-bot process, then restore with: %(cmd)s"
        ) % {"cmd": PG_RESTORE_HINT % {"url": shown}}
    return _("This database is PostgreSQL: back it up with pg_dump, for example: %(cmd)s") % {
        "cmd": PG_DUMP_HINT % {"url": shown}
    }


def backup(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="backup file (default: backups/<name>-<time>.db beside it)"),
    ] = None,
) -> None:
    """Copy the SQLite database to a timestamped 0600 file, safely while the bot runs."""
    from kernel.clock import SystemClock
    from storage.backup import BackupError, backup_sqlite, default_backup_path, sqlite_path

    config = settings(ctx)
    with use_locale(config.app.default_locale):
        database = sqlite_path(engine(ctx))
        if database is None:
            echo(_postgres_hint(config.database.url, restore=False))
            return
        target = out or default_backup_path(database, SystemClock().now())
        try:
            info = backup_sqlite(database, target)
        except BackupError as exc:
            fail(_reason_text(exc.reason, exc.path, exc.revision))
        echo(
            _("Backup written to %(path)s (revision %(revision)s).")
            % {"path": info.path, "revision": info.revision}
        )


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a file written by `papi-bot backup`")],
    yes: Annotated[
        bool, typer.Option("--yes", help="really replace the database (stop the bot first)")
    ] = False,
) -> None:
    """Replace the SQLite database by a backup (the current one is backed up first)."""
    from kernel.clock import SystemClock
    from storage.backup import (
        BackupError,
        backup_sqlite,
        check_known_revision,
        default_backup_path,
        restore_sqlite,
        sqlite_path,
    )
    from storage.db import current_revision, head_revision, upgrade

    config = settings(ctx)
    with use_locale(config.app.default_locale):
        db = engine(ctx)
        database = sqlite_path(db)
        if database is None:
            echo(_postgres_hint(config.database.url, restore=True))
            return
        try:
            revision = check_known_revision(file)
        except BackupError as exc:
            fail(_reason_text(exc.reason, exc.path, exc.revision))
        if not yes:
            fail(
                _(
                    "restoring replaces everything in %(database)s by %(file)s: stop the bot, "
                    "then run again with --yes"
                )
                % {"database": database, "file": file}
            )
        safety = None
        if database.exists():
            safety = backup_sqlite(database, default_backup_path(database, SystemClock().now()))
        db.dispose()  # no pooled connection of ours keeps the old pages
        restore_sqlite(file, database)
        if revision != head_revision(db):
            upgrade(db)
        echo(
            _("Restored %(file)s into %(database)s (revision %(revision)s).")
            % {"file": file, "database": database, "revision": current_revision(db)}
        )
        if safety is not None:
            echo(_("The database as it was is kept in %(path)s.") % {"path": safety.path})


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("backup")(backup)
    app.command("restore")(restore)
