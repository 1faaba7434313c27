"""Per-plan policy, recipients and channels as the sweep applies them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.scheduler.sweep import sweep
from kernel.clock import FixedClock
from storage.models import ChannelIdentity, OutboxMessage, ReminderLog
from tests.scheduler.drive import drive, sent
from tests.scheduler.world import small_province, vn

SETTINGS = Settings()


def one_task(engine: Engine, **policy: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan(**policy)
        task = world.task(1, "Công khai quy hoạch sử dụng đất", due=date(2026, 8, 14))
        world.assign(task, "A", created=vn(2026, 7, 1, 9), officials=("Lan",))
        world.commit()


def reminder_days(engine: Engine) -> list[date]:
    return [m.at.date() for m in sent(engine) if m.kind == "reminder"]


def test_plan_policy_overrides_the_config(engine: Engine) -> None:
    one_task(engine, days_before_due=[2], on_due_day=False, overdue_every_days=7, silence_days=90)
    drive(engine, SETTINGS, FixedClock(vn(2026, 8, 1)), vn(2026, 8, 29))
    # 2 days before = Wed 12/8; overdue every 7 days: 21/8, 28/8; no due-day reminder
    assert reminder_days(engine) == [date(2026, 8, 12), date(2026, 8, 21), date(2026, 8, 28)]


def test_a_broken_plan_override_falls_back_to_the_config(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    one_task(engine, overdue_every_days=0)
    sweep(engine, SETTINGS, FixedClock(vn(2026, 8, 7, 8)), digests=False)
    assert reminder_days(engine) == [date(2026, 8, 7)]  # the config's 7-days-before
    assert "overdue_every_days" in caplog.text


def test_the_chat_the_official_last_wrote_from_gets_it_once(engine: Engine) -> None:
    one_task(engine)
    with Session(engine) as session:
        lan_id = session.exec(
            select(ChannelIdentity.official_id).order_by(col(ChannelIdentity.id))
        ).all()[2]
        session.add(
            ChannelIdentity(
                official_id=lan_id,
                channel="zalo",
                external_user_id="z1",
                chat_id="z-chat",
                last_inbound_at=vn(2026, 8, 6, 15),
            )
        )
        session.commit()
    sweep(engine, SETTINGS, FixedClock(vn(2026, 8, 7, 8)), digests=False)
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        log = session.exec(select(ReminderLog)).one()
    assert [(r.channel, r.chat_id, r.official_id) for r in rows] == [("zalo", "z-chat", lan_id)]
    assert log.outbox_id == rows[0].id
    assert log.key.startswith("before_due:") and log.key.endswith(":2026-08-07")
    assert rows[0].buttons is not None
    assert rows[0].buttons[0][1]["payload"] == f"a:{rows[0].assignment_id}:done"
