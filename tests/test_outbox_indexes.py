"""The outbox's indexes (migration 0016, issue 11): only the ones its queries read, holding
only the rows they ask for, and the queries still read them.

Every answer writes an outbox row and its send rewrites it, so each index it enters costs
every status reply: the queue's indexes hold the pending rows only, the reply-to lookup's
the rows with an external id only, and the per-chat index of all rows is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.outbox_store import OutboxStore
from kernel.clock import FixedClock
from storage.models import OutboxMessage, OutboxStatus
from storage.outbox_rows import mark_sent
from tests.pgdb import migrated_on
from tests.sqltrace import executions_run
from tests.test_outbox import FAST

PENDING_ONLY = {"ix_outbox_due", "ix_outbox_priority", "ix_outbox_pending_chat"}
EXPECTED = PENDING_ONLY | {"ix_outbox_external", "ix_outbox_status_created"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_on(request.param, tmp_path)


def _index_sql(engine: Engine) -> dict[str, str]:
    """The outbox's index definitions, as the database holds them."""
    if engine.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        query += " AND tbl_name = 'outboxmessage'"
    else:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'outboxmessage'"
    with engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    return {name: sql for name, sql in rows if not name.endswith("_pkey")}


def test_the_outbox_keeps_only_the_indexes_its_queries_read(any_engine: Engine) -> None:
    indexes = _index_sql(any_engine)
    assert set(indexes) == EXPECTED
    for name in PENDING_ONLY:
        # PostgreSQL writes the condition back as ((status)::text = 'pending'::text).
        bare = indexes[name].replace("::text", "").replace("(", "").replace(")", "")
        assert "WHERE status = 'pending'" in bare, indexes[name]
    assert "external_message_id IS NOT NULL" in indexes["ix_outbox_external"]
    assert "WHERE" not in indexes["ix_outbox_status_created"].upper()


def _plans(engine: Engine, work: Callable[[], object]) -> list[str]:
    """The query plan (SQLite's ``EXPLAIN QUERY PLAN``) of each outbox SELECT ``work`` runs,
    with the values it was run with."""
    with executions_run(engine, _outbox_select) as seen:
        work()
    assert seen, "no outbox query ran"
    with engine.connect() as connection:
        return [
            " | ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            )
            for sql, params in seen
        ]


def _outbox_select(statement: str) -> bool:
    return statement.lstrip().upper().startswith("SELECT") and "FROM outboxmessage" in statement


@pytest.fixture
def busy_outbox(engine: Engine, clock: FixedClock) -> Engine:
    """An outbox of 600 sent rows over 30 chats and three pending ones, one a reply."""
    now = clock.now()
    rows = [
        OutboxMessage(
            channel="telegram", chat_id=str(i % 30), text=f"m{i}", next_attempt_at=now, priority=0
        )
        for i in range(603)
    ]
    rows[-1].priority = 10
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(rows)
        session.commit()
        for row in rows[:600]:
            assert row.id is not None
            mark_sent(session, row.id, now, external_id=f"ext{row.id}")
        session.commit()
    return engine


def test_the_queue_reads_its_pending_indexes(busy_outbox: Engine, clock: FixedClock) -> None:
    store = OutboxStore(busy_outbox, ["telegram"], FAST, clock)
    now = clock.now()
    batch = _plans(busy_outbox, lambda: store.load_pending(0, now))
    assert all("ix_outbox_priority" in plan for plan in batch), batch
    urgent = _plans(busy_outbox, lambda: store.load_urgent(0, now, 10))
    assert "ix_outbox_priority (status=? AND priority>?)" in urgent[0], urgent
    later = _plans(busy_outbox, lambda: store.earliest_scheduled(now - timedelta(hours=1)))
    assert "ix_outbox_due (status=? AND next_attempt_at>?)" in later[0], later
    assert [row.message.text for row in store.load_pending(0, now)] == ["m600", "m601", "m602"]
    assert [row.message.text for row in store.load_urgent(0, now, 10)] == ["m602"]


def test_a_reply_to_a_sent_message_finds_it_by_its_external_id(busy_outbox: Engine) -> None:
    def find() -> list[int | None]:
        with Session(busy_outbox) as session:
            return list(
                session.exec(
                    select(col(OutboxMessage.id))
                    .where(OutboxMessage.channel == "telegram")
                    .where(OutboxMessage.chat_id == "7")
                    .where(OutboxMessage.external_message_id == "ext8")
                    .order_by(col(OutboxMessage.id).desc())
                )
            )

    (plan,) = _plans(busy_outbox, find)
    assert "ix_outbox_external" in plan, plan
    assert find() == [8]
    with Session(busy_outbox) as session:
        sent = session.exec(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)
        ).all()
    assert len(sent) == 600
