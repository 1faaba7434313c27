"""Issue 10: output paths and an uninitialised database give one clear line, exit 2, and
leave nothing behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.demo import SHIPPED_PLAN

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
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    return lines[-1]


def test_review_out_in_a_missing_folder(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    missing = tmp_path / "missing" / "dir" / "r.xlsx"
    result = cli("import-plan", str(SHIPPED_PLAN), "--dry-run", "--review-out", str(missing))
    line = _one_clear_line(result)
    assert "--review-out" in line and "does not exist" in line
    assert not missing.parent.exists()


def test_report_out_in_a_missing_folder(
    cli: Run, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    missing = tmp_path / "nowhere" / "r.xlsx"
    line = _one_clear_line(cli("report", "--unit", "X", "--out", str(missing)))
    assert "--out" in line and "does not exist" in line
    assert not missing.parent.exists()


def test_units_import_on_a_database_never_initialised(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "never.db"
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", f"sqlite:///{database}")
    units = tmp_path / "units.csv"
    units.write_text("code,name,level,parent_code\n24,Tỉnh Bắc Giang,province,\n", encoding="utf-8")
    line = _one_clear_line(cli("units", "import", str(units)))
    assert "init" in line
    assert not database.exists()  # asking did not create an empty file


def test_errors_a_user_sees_are_in_vietnamese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vietnamese is the default: not "the database is not initialised" in English."""
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    runner = CliRunner()
    line = _one_clear_line(runner.invoke(app, ["officials", "list"]))
    assert line.startswith("cơ sở dữ liệu chưa được khởi tạo")
    bad = tmp_path / "bad.toml"
    bad.write_text("[invites]\nttl_days = -1\n", encoding="utf-8")
    result = runner.invoke(app, ["--config", str(bad), "status"])
    assert _one_clear_line(result).startswith("lỗi cấu hình:")
