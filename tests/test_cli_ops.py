"""Issue 16: install extras named on a missing driver; ``backup`` and ``restore``."""

from __future__ import annotations

import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.db import head_revision, session_scope
from storage.units import add_unit

Run = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    config = tmp_path / "en.toml"
    config.write_text('[app]\ndefault_locale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))


def _one_clear_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def _unit_names(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM unit ORDER BY name")]


def _add_unit(engine: Engine, code: str, name: str) -> None:
    with session_scope(engine) as session:
        add_unit(session, code, name, "province", None)


def test_a_missing_postgres_driver_names_the_extra(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/none")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as after a plain `pip install`
    line = _one_clear_line(cli("units", "list"))
    assert "psycopg" in line and "pip install 'papi-bot[postgres]'" in line


def test_the_postgres_extra_brings_psycopg() -> None:
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text("utf-8"))["project"]["optional-dependencies"]
    assert any(spec.startswith("psycopg") for spec in extras["postgres"])


def test_backup_then_restore_round_trip(
    cli: Run, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    database = tmp_path / "papi-bot.db"
    _add_unit(engine, "24", "Tỉnh Bắc Giang")
    result = cli("backup")
    assert result.exit_code == 0, result.output
    backups = list((tmp_path / "backups").glob("papi-bot-*.db"))
    assert len(backups) == 1
    copy = backups[0]
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert str(copy) in result.output and str(head_revision(engine)) in result.output
    assert _unit_names(copy) == ["Tỉnh Bắc Giang"]

    _add_unit(engine, "25", "Tỉnh Cao Bằng")  # a change after the backup
    line = _one_clear_line(cli("restore", str(copy)))
    assert "--yes" in line
    assert _unit_names(database) == ["Tỉnh Bắc Giang", "Tỉnh Cao Bằng"]  # nothing changed

    result = cli("restore", str(copy), "--yes")
    assert result.exit_code == 0, result.output
    assert _unit_names(database) == ["Tỉnh Bắc Giang"]
    # The database as it was before the restore is kept, too.
    kept = [path for path in (tmp_path / "backups").glob("*.db") if path != copy]
    assert len(kept) == 1 and _unit_names(kept[0]) == ["Tỉnh Bắc Giang", "Tỉnh Cao Bằng"]
    assert str(kept[0]) in result.output


def test_backup_never_overwrites(
    cli: Run, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    out = tmp_path / "keep.db"
    out.write_bytes(b"precious")
    line = _one_clear_line(cli("backup", "--out", str(out)))
    assert "already exists" in line
    assert out.read_bytes() == b"precious"


def test_restore_refuses_a_file_that_is_not_a_papi_bot_database(
    cli: Run, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    _add_unit(engine, "24", "Tỉnh Bắc Giang")
    text = tmp_path / "notes.db"
    text.write_text("not a database", encoding="utf-8")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
    for bad in (text, other, tmp_path / "missing.db"):
        line = _one_clear_line(cli("restore", str(bad), "--yes"))
        assert str(bad) in line
    assert _unit_names(tmp_path / "papi-bot.db") == ["Tỉnh Bắc Giang"]


def test_restore_refuses_an_unknown_revision(
    cli: Run, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    copy = tmp_path / "future.db"
    assert cli("backup", "--out", str(copy)).exit_code == 0
    with sqlite3.connect(copy) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'fffffffffff'")
    line = _one_clear_line(cli("restore", str(copy), "--yes"))
    assert "fffffffffff" in line and "does not know" in line


def test_postgres_backup_points_to_pg_dump(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", "postgresql+psycopg://bot:secret@127.0.0.1:1/papi")
    result = cli("backup")
    assert result.exit_code == 0, result.output
    assert "pg_dump" in result.output and "postgresql://bot:***@127.0.0.1:1/papi" in result.output
    assert "secret" not in result.output
    result = cli("restore", "x.dump")
    assert "pg_restore" in result.output and "secret" not in result.output
