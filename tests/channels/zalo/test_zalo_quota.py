"""The monthly quota in the coordinator's digest: a channel that declares one (Zalo Bot)
is counted from the outbox rows it sent this month, and shown from the warning share on."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.quota import QuotaUse, month_start, quota_warnings
from bot.config import Settings
from bot.scheduler.sweep import run_digests
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import OutboxMessage
from storage.outbox_rows import mark_sent
from storage.queue import insert_outbox_rows
from tests.scheduler.test_digest import MONDAY, commune_a


def quota_settings(quota: int = 10, warn: int = 80) -> Settings:
    base = Settings()
    zalo = base.zalo.model_copy(
        update={"quota_messages_per_month": quota, "quota_warn_percent": warn}
    )
    return base.model_copy(update={"zalo": zalo})


def sent_rows(engine: Engine, channel: str, count: int, at: datetime) -> None:
    with session_scope(engine) as session:
        rows = [{"channel": channel, "chat_id": f"c{n}", "text": "x"} for n in range(count)]
        for row_id in insert_outbox_rows(session, rows):
            mark_sent(session, row_id, at, f"e{row_id}")


def test_only_this_months_sends_on_a_channel_with_a_quota_count(engine: Engine) -> None:
    now = MONDAY
    sent_rows(engine, "zalo", 7, now - timedelta(hours=2))
    sent_rows(engine, "zalo", 5, month_start(now) - timedelta(minutes=1))  # last month
    sent_rows(engine, "telegram", 30, now - timedelta(hours=1))  # no quota declared
    with Session(engine) as session:
        assert quota_warnings(session, quota_settings(), now) == []  # 7 of 10: below 80 %
    sent_rows(engine, "zalo", 1, now - timedelta(minutes=5))
    with Session(engine) as session:
        assert quota_warnings(session, quota_settings(), now) == [QuotaUse("zalo", 8, 10)]


def test_the_digest_warns_the_coordinator(engine: Engine) -> None:
    with Session(engine) as session:
        commune_a(session)
    settings = quota_settings(quota=10)
    sent_rows(engine, "zalo", 9, MONDAY - timedelta(days=1))
    run_digests(engine, settings, FixedClock(MONDAY))
    with Session(engine) as session:
        texts = session.exec(
            select(OutboxMessage.text)
            .where(OutboxMessage.kind == "digest")
            .order_by(col(OutboxMessage.id))
        ).all()
    assert texts
    assert any("Hạn mức tin nhắn trong tháng" in t and "9/10" in t for t in texts) or any(
        "Monthly message quota" in t and "9 of 10" in t for t in texts
    ), texts


def test_no_warning_below_the_share(engine: Engine) -> None:
    with Session(engine) as session:
        commune_a(session)
    sent_rows(engine, "zalo", 2, MONDAY - timedelta(days=1))
    run_digests(engine, quota_settings(quota=10), FixedClock(MONDAY))
    with Session(engine) as session:
        texts = session.exec(select(OutboxMessage.text).where(OutboxMessage.kind == "digest"))
        assert not any("quota" in t or "Hạn mức" in t for t in texts)
