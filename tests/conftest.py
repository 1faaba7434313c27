"""Fixtures shared by every test: the network guard, a fresh migrated database, the seed
plans, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kernel.clock import VN_TZ, FixedClock
from tests.netguard import NetworkGuard
from tests.pgdb import migrated

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    """Every test: a connection or name lookup beyond 127.0.0.1 is refused, and the test
    fails even if the code swallowed the refusal (tests run offline, on loopback only)."""
    guard = NetworkGuard()
    guard.install(monkeypatch)
    yield guard
    assert not guard.violations, f"requests left 127.0.0.1: {guard.violations}"


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS_DIR.is_dir():
        pytest.fail(f"seed plans not found at {SEEDS_DIR} (CI clones shared/ beside the repo)")
    return SEEDS_DIR


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'papi-bot.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    yield from migrated(db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as db_session:
        yield db_session


@pytest.fixture
def clock() -> FixedClock:
    """Monday 22 June 2026, 09:00 in Vietnam: a working day and hour."""
    return FixedClock(datetime(2026, 6, 22, 9, 0, tzinfo=VN_TZ))
