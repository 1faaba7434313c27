"""Exactly once across restarts, crashes mid-sweep, concurrent sweeps and down-times."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.scheduler import record
from bot.scheduler.reminders import plan_reminders
from bot.scheduler.sweep import SweepResult, sweep
from bot.scheduler.working_time import WorkingTime
from kernel.clock import FixedClock
from storage.db import make_engine
from storage.models import ChannelIdentity, OutboxMessage, ReminderLog
from tests.scheduler.drive import sent
from tests.scheduler.world import small_province, vn

SETTINGS = Settings()


def run(engine: Engine, clock: FixedClock) -> SweepResult:
    """A sweep without the weekly digests (tested in test_digest)."""
    return sweep(engine, SETTINGS, clock, digests=False)


def count(engine: Engine, model: type[OutboxMessage] | type[ReminderLog]) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def build(engine: Engine, n_tasks: int = 3) -> None:
    """``n_tasks`` tasks due Friday 14/8/2026 for Lan in commune A (created 1/7)."""
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan()
        for order in range(1, n_tasks + 1):
            task = world.task(order, f"Nhiệm vụ số {order}", due=date(2026, 8, 14))
            world.assign(task, "A", created=vn(2026, 7, 1, 9), officials=("Lan",))
        world.commit()


def test_restart_after_a_sweep_sends_nothing_twice(engine: Engine, db_url: str) -> None:
    build(engine)
    run(engine, FixedClock(vn(2026, 8, 7, 8)))
    first = sent(engine)
    assert [m.headline for m in first] == ["Nhắc việc: nhiệm vụ sắp đến hạn"] * 3
    engine.dispose()  # "crash": new engine, new clock, new everything
    reborn = make_engine(db_url)
    for minutes in (0, 1, 60, 600):
        run(reborn, FixedClock(vn(2026, 8, 7, 8) + timedelta(minutes=minutes)))
    assert sent(reborn) == first
    reborn.dispose()


def test_down_over_a_sweep_time_catches_up_once(engine: Engine) -> None:
    build(engine)
    run(engine, FixedClock(vn(2026, 8, 6, 17)))
    assert sent(engine) == []
    # down from 6/8 17:00 until 7/8 14:30: the 08:00 reminders go out when it is back
    clock = FixedClock(vn(2026, 8, 7, 14, 30))
    run(engine, clock)
    run(engine, clock)
    messages = sent(engine)
    assert len(messages) == 3
    assert {m.at for m in messages} == {vn(2026, 8, 7, 14, 30)}


def test_long_down_time_sends_the_most_urgent_reminder_naming_the_rest(engine: Engine) -> None:
    build(engine, n_tasks=1)
    run(engine, FixedClock(vn(2026, 8, 6, 17)))
    # back on 12/8 10:00: 7/8 and 11/8 "due soon" and the 12/8 silence nudge are all due;
    # "due in two days" is the more urgent fact: a silence nudge must not replace it.
    run(engine, FixedClock(vn(2026, 8, 12, 10)))
    messages = sent(engine)
    assert [m.headline for m in messages] == ["Nhắc việc: nhiệm vụ sắp đến hạn"]
    with Session(engine) as session:
        [row] = session.exec(select(OutboxMessage)).all()
        logs = session.exec(select(ReminderLog).order_by(col(ReminderLog.key))).all()
    assert (
        "Cũng đến hạn với nhiệm vụ này: nhắc sắp đến hạn (ngày 7 tháng 8 năm 2026), "
        "nhắc lâu chưa cập nhật (ngày 12 tháng 8 năm 2026)." in row.text
    )
    assert [(log.key.split(":")[2], log.outbox_id is not None) for log in logs] == [
        ("2026-08-07", False),
        ("2026-08-11", True),
        ("2026-08-12", False),
    ]
    run(engine, FixedClock(vn(2026, 8, 12, 11)))
    assert len(sent(engine)) == 1


def test_crash_in_the_middle_of_a_sweep(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    build(engine, n_tasks=5)
    monkeypatch.setattr(record, "BATCH", 2)
    real_add = record._add
    calls = {"n": 0}

    def crashing_add(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # the second batch dies half-written
            raise RuntimeError("power cut")
        return real_add(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(record, "_add", crashing_add)
    clock = FixedClock(vn(2026, 8, 7, 8))
    with pytest.raises(RuntimeError):
        run(engine, clock)
    assert count(engine, OutboxMessage) == 2  # the first batch only; the second rolled back
    monkeypatch.setattr(record, "_add", real_add)
    clock.advance(timedelta(minutes=1))
    run(engine, clock)
    messages = sent(engine)
    assert len(messages) == 5
    assert len({m.assignment_id for m in messages}) == 5


def test_two_sweeps_racing_write_each_key_once(engine: Engine) -> None:
    build(engine)
    now = vn(2026, 8, 7, 8)
    working = WorkingTime(SETTINGS.quiet_hours, SETTINGS.tz)
    with Session(engine) as session:
        first = plan_reminders(session, SETTINGS, now, working)
        second = plan_reminders(session, SETTINGS, now, working)  # planned before either wrote
    written = record.write(engine, first, now)
    again = record.write(engine, second, now)
    assert (written.messages, again.messages, again.skipped) == (3, 0, 3)
    assert count(engine, OutboxMessage) == 3


def test_nothing_is_written_in_quiet_hours_weekends_or_holidays(engine: Engine) -> None:
    build(engine)
    for moment in (vn(2026, 8, 7, 21, 30), vn(2026, 8, 8, 10), vn(2026, 9, 2, 10)):
        result = run(engine, FixedClock(moment))
        assert result.messages == 0
    assert count(engine, ReminderLog) == 0


def test_unreachable_chat_gets_no_row_but_the_key_is_settled(engine: Engine) -> None:
    build(engine, n_tasks=1)
    with Session(engine) as session:
        for identity in session.exec(select(ChannelIdentity)):
            identity.unreachable_at = vn(2026, 8, 1)
            session.add(identity)
        session.commit()
    run(engine, FixedClock(vn(2026, 8, 7, 8)))
    assert count(engine, OutboxMessage) == 0
    assert count(engine, ReminderLog) == 1
