"""The flood guard on a real PostgreSQL, where several processes apply inbound messages side
by side: the counts are shared, and a race for a sender's first window loses nothing.

Runs when ``PAPI_BOT_TEST_POSTGRES_URL`` is set (scripts/postgres-for-tests.sh).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.config import Settings
from bot.pipeline import apply_inbound
from handlers.types import Inbound
from kernel.clock import VN_TZ
from storage.db import make_engine
from storage.models import FloodWindow, OutboxMessage, ProcessedUpdate
from tests.pgdb import SERVER_URL, migrated
from tests.test_postgres import pg_url

__all__ = ["pg_url"]  # the fixture: a fresh database per test

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not SERVER_URL, reason="set PAPI_BOT_TEST_POSTGRES_URL"),
]

NOW = datetime(2026, 6, 22, 9, 0, tzinfo=VN_TZ)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    yield from migrated(pg_url)


def _send_all(url: str, user: str, keys: list[str], barrier: threading.Barrier) -> None:
    engine = make_engine(url)  # its own pool: as another process would have
    try:
        barrier.wait()
        for key in keys:
            inbound = Inbound("telegram", user, user, key, NOW, text="hello")
            apply_inbound(engine, inbound, Settings(), NOW)
    finally:
        engine.dispose()


def test_concurrent_first_messages_of_a_stranger_are_answered_once(pg: Engine, pg_url: str) -> None:
    """Eight connections write a new stranger's first messages at the same moment: one of
    them inserts the sender's window, the others wait on it or lose the insert and count on
    the winner's row. One answer, every message recorded, one window per kind."""
    barrier = threading.Barrier(8)
    threads = [
        threading.Thread(
            target=_send_all,
            args=(pg_url, "stranger-pg", [f"t{n}-{m}" for m in range(5)], barrier),
        )
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()
    with Session(pg) as session:
        answers = session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.chat_id) == "stranger-pg")
        ).one()
        recorded = session.exec(select(func.count()).select_from(ProcessedUpdate)).one()
        windows = session.exec(select(FloodWindow)).all()
    assert answers == 1
    assert recorded == 40
    assert sorted(w.kind for w in windows) == ["message", "stranger"]
    assert all(w.count == 40 for w in windows)  # not one message counted twice or lost
