"""``papi-bot console-login``: a first sign-in code, also for the demo's own database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.demo import demo_database_url, ensure_demo_data
from storage.db import make_engine, session_scope, upgrade
from storage.taxonomy import sync_taxonomy

DEMO_COORDINATOR = "+84900000010"


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'papi-bot.db'}"
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", url)
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    return url


def test_demo_coordinator_gets_a_code_from_the_demo_database(configured: str) -> None:
    demo = make_engine(demo_database_url(configured))
    upgrade(demo)
    with session_scope(demo) as session:
        sync_taxonomy(session)
        ensure_demo_data(session, Settings(), datetime(2026, 12, 2, tzinfo=UTC))
    demo.dispose()
    result = CliRunner().invoke(app, ["console-login", "--demo", DEMO_COORDINATOR])
    assert result.exit_code == 0, result.output
    assert "Mã đăng nhập" in result.stdout and DEMO_COORDINATOR not in result.stdout
    # The configured database was neither consulted nor created.
    assert not Path(configured.removeprefix("sqlite:///")).exists()


def test_without_a_demo_database_it_says_so(configured: str) -> None:
    result = CliRunner().invoke(app, ["console-login", "--demo", DEMO_COORDINATOR])
    assert result.exit_code == 2
    assert "chưa có cơ sở dữ liệu mẫu" in result.stderr
