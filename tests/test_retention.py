"""Issue 16: processed-update keys and sent outbox rows are pruned after ``[retention] days``;
undelivered rows, the reminder log and recent rows stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import RetentionConfig, Settings
from bot.scheduler.jobs import RETENTION_JOB, build_scheduler, prune_old_rows
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import OutboxMessage, ProcessedUpdate, ReminderLog
from storage.queue import add_outbox_rows


def test_old_sent_rows_and_update_keys_go_the_rest_stays(engine: Engine, clock: FixedClock) -> None:
    now = clock.now()
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    with session_scope(engine) as session:
        base = {"channel": "telegram", "chat_id": "1"}
        rows = add_outbox_rows(
            session,
            [
                {**base, "text": "old sent", "status": "sent", "sent_at": old},
                {**base, "text": "recent", "status": "sent", "sent_at": recent},
                {**base, "text": "old failed", "status": "failed", "created_at": old},
                {**base, "text": "old pending", "created_at": old},
            ],
        )
        session.add(ReminderLog(key="k1", kind="due", due_at=old, outbox_id=rows[0].id))
        session.add(ProcessedUpdate(channel="telegram", update_key="u-old", processed_at=old))
        session.add(ProcessedUpdate(channel="telegram", update_key="u-new", processed_at=recent))
    pruned = prune_old_rows(engine, Settings(retention=RetentionConfig(days=90)), clock)
    assert (pruned.outbox_rows, pruned.processed_updates) == (1, 1)
    with Session(engine) as session:
        texts = session.exec(select(OutboxMessage.text).order_by(col(OutboxMessage.id))).all()
        assert texts == ["recent", "old failed", "old pending"]
        assert session.exec(select(ProcessedUpdate.update_key)).all() == ["u-new"]
        log = session.exec(select(ReminderLog)).one()
        assert log.key == "k1" and log.outbox_id is None  # the exactly-once key is kept


def test_the_scheduler_prunes_every_night(engine: Engine, clock: FixedClock) -> None:
    scheduler = build_scheduler(engine, Settings(), clock, lambda: None)
    assert scheduler.get_job(RETENTION_JOB) is not None
