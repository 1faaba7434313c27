"""Databases for tests: a migrated engine on any URL, and a PostgreSQL database of a test's
own on the test server (``PAPI_BOT_TEST_POSTGRES_URL``, which ``scripts/postgres-for-tests.sh``
prints), dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from storage.db import make_engine, session_scope, upgrade
from storage.taxonomy import sync_taxonomy

SERVER_URL = os.environ.get("PAPI_BOT_TEST_POSTGRES_URL", "")


@contextmanager
def fresh_database(prefix: str = "papi_test") -> Iterator[str]:
    """The URL of a new, empty database on the test server, dropped when the block ends."""
    server = make_url(SERVER_URL)
    assert server.host in ("127.0.0.1", "localhost"), "tests only talk to 127.0.0.1"
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = make_engine(SERVER_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrated(url: str) -> Iterator[Engine]:
    """An engine on ``url`` at the head revision with the PAPI taxonomy, disposed after (a
    fixture's body: ``yield from migrated(url)``)."""
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        sync_taxonomy(session)
    yield engine
    engine.dispose()


def migrated_on(kind: str, folder: Path) -> Iterator[Engine]:
    """A migrated engine of ``kind``: "sqlite" (a file in ``folder``) or "postgres" (a
    database of its own on the test server, dropped afterwards; the test is skipped when no
    server is set). A fixture's body, as ``migrated``."""
    if kind == "sqlite":
        yield from migrated(f"sqlite:///{folder / 'papi-bot.db'}")
        return
    assert kind == "postgres", kind
    if not SERVER_URL:
        pytest.skip("set PAPI_BOT_TEST_POSTGRES_URL (scripts/postgres-for-tests.sh prints one)")
    with fresh_database() as url:
        yield from migrated(url)
