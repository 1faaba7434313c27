"""What every command needs: settings, the database, and one way to fail (exit code 2)."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import NoReturn

import typer
from sqlalchemy.engine import Engine

from bot.config import ConfigError, Settings, load_settings
from storage.db import current_revision, head_revision, make_engine

EXIT_BAD_INPUT = 2

_config_path: Path | None = None


def set_config_path(path: Path | None) -> None:
    global _config_path
    _config_path = path
    settings.cache_clear()
    engine.cache_clear()


def fail(message: str) -> NoReturn:
    """One clear line on stderr, exit code 2; the caller has written nothing."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@cache
def settings() -> Settings:
    try:
        return load_settings(_config_path)
    except ConfigError as exc:
        fail(f"config error: {exc}")


@cache
def engine() -> Engine:
    return make_engine(settings().database.url)


def require_database() -> Engine:
    """The engine of an initialised, up-to-date database, or a clear failure."""
    db = engine()
    if current_revision(db) != head_revision(db):
        fail("the database is not initialised or is out of date: run `papi-bot init` first")
    return db


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")
