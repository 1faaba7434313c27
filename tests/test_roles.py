"""Issue 16: ``papi-bot run --role``: what each role runs, and SQLite accepts only ``all``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from bot.app import serve
from bot.channels.registry import ChannelRegistry
from bot.cli import app
from bot.config import Settings
from bot.roles import Role
from kernel.clock import FixedClock
from storage.models import OutboxMessage
from tests.channels.test_registry import FakeRunning, FakeScheduler, fake_kind


@pytest.mark.parametrize("role", ["web", "worker", "scheduler"])
def test_sqlite_runs_only_the_all_role(
    role: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "en.toml"
    config.write_text('[app]\ndefault_locale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["run", "--role", role])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        f"--role {role} needs PostgreSQL: SQLite is one process, run it with --role all"
    ]


def test_an_unknown_role_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "en.toml"
    config.write_text('[app]\ndefault_locale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    result = CliRunner().invoke(app, ["run", "--role", "boss"])
    assert result.exit_code == 2
    assert "web, worker, scheduler, all" in result.output


async def _serve_briefly(
    engine: Engine, clock: FixedClock, role: Role
) -> tuple[list[str], dict[str, FakeRunning]]:
    log: list[str] = []
    made: dict[str, FakeRunning] = {}
    registry = ChannelRegistry([fake_kind("alpha", True, log, made)])
    with Session(engine) as session:
        session.add(
            OutboxMessage(channel="alpha", chat_id="c1", text="x", next_attempt_at=clock.now())
        )
        session.commit()
    stop = asyncio.Event()
    factory: Callable[..., Any] = lambda *args: FakeScheduler(log)  # noqa: E731
    serving = asyncio.create_task(
        serve(
            engine, Settings(), clock, stop, registry=registry, scheduler_factory=factory, role=role
        )
    )
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(serving, 10)
    return log, made


@pytest.mark.parametrize(
    ("role", "receives", "sends", "schedules"),
    [
        (Role.ALL, True, True, True),
        (Role.WEB, True, False, False),
        (Role.WORKER, False, True, False),
    ],
)
async def test_each_role_runs_its_parts(
    engine: Engine, clock: FixedClock, role: Role, receives: bool, sends: bool, schedules: bool
) -> None:
    log, made = await _serve_briefly(engine, clock, role)
    assert ("alpha receiving" in log) is receives
    assert bool(made["alpha"].sent) is sends
    assert ("scheduler started" in log) is schedules
