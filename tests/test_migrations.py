"""`papi-bot init` upgrades a database of the first revision without losing rows.

Rows are written with plain SQL using only the columns of revision 0001, so this test keeps
working however many migrations are added after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from typer.testing import CliRunner

from bot.cli import app
from storage.db import current_revision, head_revision, make_engine, upgrade

FIRST = "0001"


@pytest.fixture
def old_db(db_url: str) -> Iterator[Engine]:
    db = make_engine(db_url)
    upgrade(db, FIRST)
    with db.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO unit (id, code, name, name_folded, level, parent_id, path) VALUES "
                "(1, '24', 'Tỉnh Bắc Giang', 'tinh bac giang', 'province', NULL, '/1/'), "
                "(2, '07420', 'Xã Tân An', 'xa tan an', 'commune', 1, '/1/2/')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO official (id, name, phone, unit_id, role, locale, active, created_at)"
                " VALUES (1, 'Nguyễn Văn A', '+84912345678', 2, 'chair', 'vi', 1,"
                " '2026-01-05 02:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO invite (id, code, official_id, created_at, expires_at) VALUES "
                "(1, 'K7QM2XPA', 1, '2026-01-05 02:00:00', '2026-01-19 02:00:00')"
            )
        )
    yield db
    db.dispose()


@pytest.fixture
def init(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    yield CliRunner()


def _rows(db: Engine) -> list[tuple[object, ...]]:
    with db.connect() as connection:
        units = connection.execute(text("SELECT id, code, name, parent_id, path FROM unit"))
        officials = connection.execute(text("SELECT id, name, phone, unit_id FROM official"))
        # Revision 0007 replaces the plain code by its hash: compare what both revisions have.
        invites = connection.execute(text("SELECT id, official_id, expires_at FROM invite"))
        return [*units.all(), *officials.all(), *invites.all()]


def test_init_upgrades_the_first_revision_without_losing_rows(
    old_db: Engine, init: CliRunner
) -> None:
    assert current_revision(old_db) == FIRST
    before = _rows(old_db)
    result = init.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert current_revision(old_db) == head_revision(old_db)
    assert _rows(old_db) == before
    assert "đơn vị: 2" in result.stdout and "cán bộ: 1" in result.stdout  # vi by default


def test_init_twice_is_harmless(old_db: Engine, init: CliRunner) -> None:
    assert init.invoke(app, ["init"]).exit_code == 0
    after_first = _rows(old_db)
    with old_db.connect() as connection:
        taxonomy = connection.execute(text("SELECT count(*) FROM taxonomyitem")).scalar_one()
    second = init.invoke(app, ["init"])
    assert second.exit_code == 0, second.output
    assert _rows(old_db) == after_first
    with old_db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM taxonomyitem")).scalar_one() == (
            taxonomy
        )
    assert current_revision(old_db) == head_revision(old_db)


def test_init_creates_a_new_database_in_a_new_folder(
    tmp_path: Path, init: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'sub' / 'papi.db'}"
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", url)
    result = init.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fresh" / "sub" / "papi.db").is_file()


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    """Every table and column in storage/models.py is created by some migration."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    missing = [d for d in differences if d[0] in ("add_table", "add_column")]
    assert missing == []


def test_migration_0007_hashes_the_printed_codes(old_db: Engine, init: CliRunner) -> None:
    """A code printed before the upgrade still works after it; the plain code is gone."""
    from datetime import UTC, datetime

    from sqlmodel import Session

    from storage.invites import check_invite, hash_code
    from storage.models import Invite

    assert init.invoke(app, ["init"]).exit_code == 0
    with old_db.connect() as connection:
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(invite)"))]
        stored = connection.execute(text("SELECT code_hash FROM invite")).scalar_one()
    assert "code" not in columns
    assert stored == hash_code("K7QM2XPA") and "K7QM2XPA" not in stored
    with Session(old_db) as session:
        found = check_invite(session, "k7qm-2xpa", datetime(2026, 1, 10, tzinfo=UTC))
    assert isinstance(found, Invite) and found.id == 1
