"""Issue 10: ``papi-bot run`` without a token never writes its demo into the configured
database; the demo lives in a file of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.demo import demo_database_url
from storage.db import make_engine, session_scope, upgrade
from storage.models import Official, Unit
from storage.units import add_unit

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_database_sits_beside_the_configured_file() -> None:
    assert demo_database_url("sqlite:///data/papi-bot.db") == "sqlite:///data/papi-bot-demo.db"
    assert (
        demo_database_url("sqlite:////srv/papi/real.db") == "sqlite:////srv/papi/papi-bot-demo.db"
    )
    assert demo_database_url("postgresql://u@db/papi") == "sqlite:///data/papi-bot-demo.db"


@pytest.mark.e2e
def test_run_without_a_token_leaves_a_real_database_alone(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    engine = make_engine(f"sqlite:///{real}")
    upgrade(engine)
    with session_scope(engine) as session:
        add_unit(session, "24", "Tỉnh Bắc Giang", "province", None)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{real}"\n', encoding="utf-8")
    env = {**os.environ, "PAPI_BOT_CONFIG": str(config)}
    for name in ("PAPI_BOT_DATABASE_URL", "TELEGRAM_BOT_TOKEN"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=REPO_ROOT,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "papi-bot-demo.db" in done.stdout
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Unit)).one() == 1
        assert session.exec(select(func.count()).select_from(Official)).one() == 0
    demo = make_engine(f"sqlite:///{tmp_path / 'papi-bot-demo.db'}")
    with Session(demo) as session:
        assert session.exec(select(func.count()).select_from(Official)).one() > 0
