"""Issue 10: deactivate an official, remove a unit, list and retire plans from the CLI;
``digest --send`` says who could not be reached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.config import Settings
from bot.demo import PROVINCE_CODE, SHIPPED_PLAN, ensure_demo_data
from bot.scheduler.reminders import plan_reminders
from bot.scheduler.working_time import WorkingTime
from handlers.queries import my_items
from kernel.clock import FixedClock, SystemClock
from storage.db import session_scope
from storage.models import AssignmentOfficial, Official, Plan, Unit
from storage.units import add_unit

Run = Callable[..., Result]


@pytest.fixture
def cli(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Run]:
    config = tmp_path / "en.toml"
    config.write_text('[app]\ndefault_locale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))


@pytest.fixture
def demo(engine: Engine, clock: FixedClock) -> Engine:
    with session_scope(engine) as session:
        ensure_demo_data(session, Settings(), clock.now(), plan_path=SHIPPED_PLAN)
    return engine


def _official(engine: Engine, role: str, unit_code: str) -> Official:
    with Session(engine) as session:
        return session.exec(
            select(Official)
            .join(Unit, col(Unit.id) == col(Official.unit_id))
            .where(Official.role == role, Unit.code == unit_code)
            .order_by(col(Official.id))
        ).first()  # type: ignore[return-value]


def test_deactivate_an_official_hands_their_tasks_back(
    demo: Engine, cli: Run, clock: FixedClock
) -> None:
    official = _official(demo, "official", "DEMO-X01")
    chair = _official(demo, "chair", "DEMO-X01")
    with Session(demo) as session:
        before = len(my_items(session, chair, clock.now().date()))
    result = cli("officials", "deactivate", official.phone)
    assert result.exit_code == 0, result.output
    assert "deactivated; 2 tasks went back" in result.output
    with Session(demo) as session:
        again = session.get(Official, official.id)
        assert again is not None and not again.active
        mine = session.exec(
            select(func.count())
            .select_from(AssignmentOfficial)
            .where(AssignmentOfficial.official_id == official.id)
        ).one()
        assert mine == 0
        assert len(my_items(session, chair, clock.now().date())) == before + 2
    repeat = cli("officials", "deactivate", official.phone)
    assert repeat.exit_code == 2 and "already inactive" in repeat.output


def test_remove_a_unit_only_when_nothing_depends_on_it(demo: Engine, cli: Run) -> None:
    with session_scope(demo) as session:
        province = session.exec(select(Unit).where(Unit.code == PROVINCE_CODE)).one()
        add_unit(session, "DEMO-X09", "Xã Nhập Nhầm", "commune", province)
    refused = cli("units", "remove", "DEMO-X01")
    assert refused.exit_code == 2
    assert "was not removed" in refused.output and "officials" in refused.output
    removed = cli("units", "remove", "DEMO-X09")
    assert removed.exit_code == 0, removed.output
    with Session(demo) as session:
        codes = set(session.exec(select(Unit.code)).all())
    assert "DEMO-X09" not in codes and "DEMO-X01" in codes
    assert cli("units", "remove", "NOPE").exit_code == 2


def test_list_and_retire_a_plan(demo: Engine, cli: Run, clock: FixedClock) -> None:
    listed = cli("plans", "list")
    assert listed.exit_code == 0, listed.output
    with Session(demo) as session:
        plan = session.exec(select(Plan)).one()
    assert f"#{plan.id}\t" in listed.output and "running" in listed.output
    official = _official(demo, "official", "DEMO-X01")
    settings = Settings()
    working = WorkingTime(settings.quiet_hours, settings.tz)
    later = SystemClock().now() + timedelta(days=60)  # the demo's rows are created 'now'
    with Session(demo) as session:
        assert my_items(session, official, later.date())
        assert plan_reminders(session, settings, later, working, timedelta(days=59))
    retired = cli("plans", "retire", str(plan.id))
    assert retired.exit_code == 0, retired.output
    assert "retired" in cli("plans", "list").output
    assert "already retired" in cli("plans", "retire", str(plan.id)).output
    assert cli("plans", "retire", "999").exit_code == 2
    with Session(demo) as session:
        assert my_items(session, official, later.date()) == []
        assert plan_reminders(session, settings, later, working, timedelta(days=59)) == []


def test_digest_send_to_nobody_reachable_fails(demo: Engine, cli: Run) -> None:
    result = cli("digest", "--unit", "DEMO-X01", "--send")
    assert result.exit_code == 2
    assert "Nothing was queued" in result.output
    assert _official(demo, "chair", "DEMO-X01").name in result.output
