"""Issue 10: a recurring ("Thường xuyên") task is reported per period, never closed for good."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.scheduler.due import OVERDUE, SILENCE, DueItem
from bot.scheduler.reminders import _choose
from bot.scheduler.sweep import sweep
from kernel.clock import FixedClock
from storage.models import Assignment, ProgressUpdate, Unit
from storage.periods import parse_period
from storage.recurring import period_end
from storage.rollup import rollup
from tests.scheduler.drive import sent
from tests.scheduler.world import small_province, vn

SETTINGS = Settings()
DEADLINES = ["03-20", "06-20", "11-30"]


def test_period_end_is_the_next_report_deadline() -> None:
    assert period_end(date(2026, 6, 10), DEADLINES) == date(2026, 6, 20)
    assert period_end(date(2026, 6, 20), DEADLINES) == date(2026, 6, 20)
    assert period_end(date(2026, 12, 5), DEADLINES) == date(2027, 3, 20)
    assert period_end(date(2026, 12, 5), []) is None


def _recurring_done_in_june(engine: Engine) -> int:
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan(DEADLINES)
        task = world.task(1, "Tuyên truyền Chỉ số PAPI trên loa truyền thanh")  # Thường xuyên
        assignment = world.assign(task, "A", created=vn(2026, 5, 1, 9), officials=("Lan",))
        done_at = vn(2026, 6, 10, 15)
        assignment.status, assignment.percent = "done", 100
        assignment.done_at = assignment.last_update_at = done_at
        session.add(
            ProgressUpdate(
                assignment_id=assignment.id or 0,
                official_id=world.officials["Lan"].id,
                status="done",
                percent=100,
                created_at=done_at,
            )
        )
        world.commit()
        return assignment.id or 0


def test_done_counts_for_this_period_and_the_next_request_still_comes(engine: Engine) -> None:
    number = _recurring_done_in_june(engine)
    day = vn(2026, 6, 11, 9)
    while day < vn(2026, 11, 25, 9):
        sweep(engine, SETTINGS, FixedClock(day), digests=False)
        day += timedelta(days=1)
    with Session(engine) as session:
        assignment = session.get(Assignment, number)
        assert assignment is not None and assignment.status == "not_started"  # open again
        opened = session.exec(
            select(ProgressUpdate)
            .where(ProgressUpdate.assignment_id == number)
            .order_by(col(ProgressUpdate.id))
        ).all()
        assert [u.status for u in opened] == ["done", "not_started"]
        assert opened[1].created_at == vn(2026, 6, 21)  # the new period starts after 20/6
    requests = [m for m in sent(engine) if m.kind == "reminder" and m.assignment_id == number]
    assert any(m.at.date() == date(2026, 11, 23) for m in requests), requests  # 30/11 - 7
    assert all(
        "ngày 30 tháng 11 năm 2026" in m.headline or "Chưa có cập nhật" in m.headline
        for m in requests
    )


def test_the_rollup_counts_the_period_it_was_reported_done_in(engine: Engine) -> None:
    number = _recurring_done_in_june(engine)
    sweep(engine, SETTINGS, FixedClock(vn(2026, 7, 1, 9)), digests=False)  # opened again
    now = vn(2026, 12, 1, 9)
    with Session(engine) as session:
        assert session.get(Assignment, number).status == "not_started"  # type: ignore[union-attr]
        unit = session.exec(select(Assignment)).one()
        commune = session.get(Unit, unit.unit_id)
        assert commune is not None
        q2 = rollup(session, commune, parse_period("2026-Q2", now.date()), now, silence_days=90)
        q3 = rollup(session, commune, parse_period("2026-Q3", now.date()), now, silence_days=90)
        current = rollup(
            session, commune, parse_period("2026-Q4", now.date()), now, silence_days=90
        )
    assert (q2.totals.done, q2.totals.done_in_period, q2.totals.total) == (1, 1, 1)
    assert (q3.totals.done, q3.totals.not_started) == (0, 1)
    assert current.totals.done == 0


def test_a_dated_task_stays_done(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan(DEADLINES)
        task = world.task(1, "Công khai ngân sách", due=date(2026, 6, 30))
        assignment = world.assign(task, "A", created=vn(2026, 5, 1, 9))
        assignment.status, assignment.done_at = "done", vn(2026, 6, 10, 15)
        number = assignment.id
        world.commit()
    sweep(engine, SETTINGS, FixedClock(vn(2026, 12, 1, 9)), digests=False)
    with Session(engine) as session:
        assert session.get(Assignment, number).status == "done"  # type: ignore[union-attr]


def test_overdue_beats_a_later_silence_nudge() -> None:
    overdue = DueItem(OVERDUE, 4, date(2026, 8, 7), vn(2026, 8, 7, 8))
    silence = DueItem(SILENCE, 4, date(2026, 8, 10), vn(2026, 8, 10, 8))
    chosen, rest = _choose([overdue, silence], set())
    assert chosen is overdue and rest == [silence]
    chosen, rest = _choose([overdue, silence], {overdue.key})  # already sent: the nudge goes
    assert chosen is silence and rest == []
