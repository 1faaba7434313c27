"""With the database unreachable, the CLI says so in one line and exits 2 (no traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    yield CliRunner()


def _urls(tmp_path: Path) -> list[str]:
    folder = tmp_path / "papi.db"
    folder.mkdir()  # a folder where the SQLite file should be: "unable to open database file"
    return [
        f"sqlite:///{folder}",
        # Port 1 on the loopback: nothing listens, the connection is refused at once.
        "postgresql+psycopg://papi:hunter2@127.0.0.1:1/papi",
    ]


@pytest.mark.parametrize("command", [["status"], ["init"], ["officials", "list"]])
@pytest.mark.parametrize("which", [0, 1])
def test_unreachable_database_is_one_line_and_exit_2(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: list[str],
    which: int,
) -> None:
    url = _urls(tmp_path)[which]
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", url)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Không kết nối được cơ sở dữ liệu")
    assert "hunter2" not in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
