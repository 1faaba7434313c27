"""CLI commands: init and status (database); units, officials and invites are added here."""

from __future__ import annotations

import typer
from sqlmodel import func, select

from bot.cli.common import echo, engine, settings
from storage.db import current_revision, head_revision, session_scope, upgrade
from storage.models import Assignment, Official, Plan, Task, Unit
from storage.taxonomy import sync_taxonomy


def init() -> None:
    """Create or upgrade the database and load the taxonomy; safe to run again."""
    db = engine()
    before = current_revision(db)
    upgrade(db)
    with session_scope(db) as session:
        added = sync_taxonomy(session)
    after = current_revision(db)
    if before == after:
        echo(f"database up to date (revision {after})")
    else:
        echo(f"database upgraded from {before or 'empty'} to {after}")
    if added:
        echo(f"taxonomy: {added} items added")
    status()


def status() -> None:
    """Print where the database is and what it holds."""
    db = engine()
    echo(f"database: {settings().database.url}")
    revision, head = current_revision(db), head_revision(db)
    echo(f"schema: {revision or 'not initialised'} (latest {head})")
    if revision != head:
        return
    with session_scope(db) as session:
        for label, model in (
            ("units", Unit),
            ("officials", Official),
            ("plans", Plan),
            ("tasks", Task),
            ("assignments", Assignment),
        ):
            count = session.exec(select(func.count()).select_from(model)).one()
            echo(f"{label}: {count}")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(status)
