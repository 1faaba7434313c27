"""The state each assignment row keeps of its update history (storage/history_state.py):
it must always be what the history itself says, whoever writes, and the roll-up must read
it (and ask the history only where it cannot answer)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kernel.clock import VN_TZ
from storage.db import make_engine, upgrade
from storage.history_state import MARK_KINDS, backfill, columns, replay
from storage.models import Assignment, Plan, ProgressUpdate, Task, Unit
from storage.periods import quarter_period
from storage.progress import Source, record_progress
from storage.recurring import reopen_past_periods
from storage.rollup import rollup
from tests.reports.dataset import NOW, add_task, add_unit, assign, build_three_level, update

Q2, Q3 = quarter_period(2024, 2), quarter_period(2024, 3)


def kept(assignment: Assignment) -> dict[str, Any]:
    names = columns(replay([])[0], replay([])[1])
    return {name: getattr(assignment, name) for name in names}


def from_history(session: Session, assignment_id: int) -> dict[str, Any]:
    rows = session.exec(
        select(ProgressUpdate)
        .where(ProgressUpdate.assignment_id == assignment_id)
        .order_by(col(ProgressUpdate.created_at), col(ProgressUpdate.id))
    ).all()
    return columns(*replay((u.status, u.percent, u.created_at) for u in rows))


def agrees(session: Session, assignment: Assignment) -> None:
    session.flush()
    assert assignment.id is not None
    session.refresh(assignment)  # what the database holds, not the object
    assert kept(assignment) == from_history(session, assignment.id)


@pytest.fixture
def one(session: Session) -> Assignment:
    province = add_unit(session, "P", "Tỉnh Thử", "province", None)
    commune = add_unit(session, "C", "Xã Thử", "commune", province)
    plan = Plan(province_id=province.id, year=2024, title="Thử")
    session.add(plan)
    session.flush()
    task = add_task(session, plan, 1, "NV 1", 1, None, None, "")
    return assign(session, task, commune)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=VN_TZ)


def source(moment: datetime) -> Source:
    return Source(official_id=None, channel="telegram", message_id=None, now=moment)


def test_status_replies_keep_the_state_across_period_boundaries(
    session: Session, one: Assignment
) -> None:
    steps = [
        (at(3, 20), "in_progress", 30, None),
        (at(3, 30), "done", None, None),  # done in Q1 ...
        (at(4, 2), None, None, "biên bản đã gửi"),  # ... a note keeps it done, into Q2
        (at(5, 10), "blocked", None, "chờ kinh phí"),
        (at(6, 29), None, None, "vẫn chờ"),  # a note on a blocked task
        (at(7, 1, 0), "in_progress", 60, None),  # local midnight: the first moment of Q3
        (at(7, 3), "done", None, None),
        (at(8, 1), "done", None, None),  # done again: done since 3 July still
    ]
    for moment, status, percent, note in steps:
        record_progress(session, one, status, percent, note, source(moment))
        agrees(session, one)
    assert one.history_status == "done" and one.done_since == at(7, 3)
    assert one.history_percent == 100
    # Q3 started at 00:00 on 1 July (local): the state then is the blocked one of 29 June.
    assert one.quarter_mark == Q3.start_moment
    assert (one.quarter_status, one.quarter_at) == ("blocked", at(6, 29))
    assert one.quarter_percent == 100  # blocked after done: the percent given last was 100
    assert one.year_status is None and one.year_at is None  # nothing before 2024
    assert one.month_mark == datetime(2024, 8, 1, tzinfo=VN_TZ) and one.month_done_since == at(7, 3)


def test_writers_around_record_progress_keep_it_too(session: Session, one: Assignment) -> None:
    update(session, one, at(2, 1), "in_progress", 10)  # the test dataset's own rows
    update(session, one, at(2, 5), "done")
    agrees(session, one)
    # Two updates in one flush, added out of order: the history's order is their times.
    session.add(ProgressUpdate(assignment_id=one.id or 0, status="blocked", created_at=at(4, 9)))
    session.add(ProgressUpdate(assignment_id=one.id or 0, status="done", created_at=at(4, 2)))
    agrees(session, one)
    assert one.history_status == "blocked"


def test_an_update_older_than_the_latest_replays_the_history(
    session: Session, one: Assignment
) -> None:
    record_progress(session, one, "done", None, None, source(at(7, 10)))
    agrees(session, one)
    # Recorded later, dated earlier (the recurring reopening dates its row at the period's
    # start): the state is what the whole history says, not this update applied last.
    session.add(
        ProgressUpdate(assignment_id=one.id or 0, status="in_progress", created_at=at(7, 2))
    )
    agrees(session, one)
    assert one.history_status == "done" and one.done_since == at(7, 10)


def test_an_edited_or_deleted_update_replays_the_history(session: Session, one: Assignment) -> None:
    record_progress(session, one, "done", None, None, source(at(6, 10)))
    record_progress(session, one, "in_progress", 40, None, source(at(7, 10)))
    agrees(session, one)
    first, last = session.exec(select(ProgressUpdate).order_by(col(ProgressUpdate.id))).all()
    session.delete(last)
    agrees(session, one)
    assert one.history_status == "done" and one.done_since == at(6, 10)
    first.status = "blocked"
    session.add(first)
    agrees(session, one)
    assert one.history_status == "blocked" and one.done_since is None


def test_reopening_a_recurring_task_keeps_it(session: Session, one: Assignment) -> None:
    task = session.get(Task, one.task_id)
    assert task is not None
    task.deadline_kind = "recurring"
    session.add(task)
    record_progress(session, one, "done", None, None, source(at(3, 20)))
    record_progress(session, one, None, None, "đã nộp báo cáo", source(at(4, 3)))
    session.flush()
    # Reopened on 5 April, dated at the new period's start (1 April): before the note.
    opened = reopen_past_periods(session, at(4, 5), VN_TZ, lambda _plan: ["03-31"])
    assert opened == 1
    agrees(session, one)
    reopened = session.exec(select(ProgressUpdate).where(ProgressUpdate.channel == "period")).one()
    assert reopened.created_at == datetime(2024, 4, 1, tzinfo=VN_TZ)


def test_a_plan_edit_keeps_the_state_of_the_assignments_it_keeps(
    session: Session, one: Assignment
) -> None:
    record_progress(session, one, "in_progress", 50, None, source(at(7, 2)))
    one.role = "coordinating"  # what a plan re-import changes on a kept assignment
    session.add(one)
    agrees(session, one)
    assert one.history_percent == 50


def test_deleting_an_assignment_with_its_history_leaves_nothing_to_keep(
    session: Session, one: Assignment
) -> None:
    record_progress(session, one, "in_progress", 50, None, source(at(7, 2)))
    session.flush()
    for row in session.exec(select(ProgressUpdate)).all():
        session.delete(row)
    agrees(session, one)  # no history left: nothing kept
    assert one.history_at is None and one.quarter_mark is None
    session.delete(one)
    session.flush()  # the hook does not bring the deleted row back
    assert session.exec(select(Assignment)).all() == []


def rollup_figures(session: Session, unit: Unit, now: datetime) -> list[Any]:
    out = []
    for period in (Q3, Q2, quarter_period(2024, 1)):
        r = rollup(session, unit, period, now, silence_days=21)
        out.append((r.totals, r.previous, r.children, r.tasks, r.blocked))
    return out


def forget(session: Session) -> None:
    """Make the kept state say "ask the history" everywhere (an update in the far future,
    no marks), as a database whose time zone changed would."""
    values = {"history_at": datetime(2100, 1, 1, tzinfo=VN_TZ), "history_status": "blocked"}
    values.update({f"{kind}_mark": None for kind in MARK_KINDS})
    for assignment in session.exec(select(Assignment)).all():
        for name, value in values.items():
            setattr(assignment, name, value)
        session.add(assignment)
    session.flush()


def test_the_kept_state_and_the_history_give_the_same_rollup(session: Session) -> None:
    data = build_three_level(session)
    session.commit()
    kept_figures = rollup_figures(session, data.units["P"], NOW)
    forget(session)
    assert rollup_figures(session, data.units["P"], NOW) == kept_figures


def test_the_rollup_reads_the_kept_state_not_the_history(session: Session) -> None:
    data = build_three_level(session)
    for task in session.exec(select(Task).where(Task.deadline_kind == "recurring")).all():
        # "Reported done within the window" of a recurring task is still the history's.
        task.deadline_kind, task.due_date = "date", date(2024, 12, 31)
        session.add(task)
    session.commit()
    before = rollup(session, data.units["P"], Q3, NOW, silence_days=21)
    assert before.totals.done_in_period == 2 and before.previous is not None
    # Wipe the history: a roll-up that probed it would now count nothing done in Q3 and
    # every assignment not started at the end of Q2.
    session.execute(text("DELETE FROM progressupdate"))
    session.commit()
    session.expire_all()
    after = rollup(session, data.units["P"], Q3, NOW, silence_days=21)
    assert after.totals == before.totals
    assert after.previous == before.previous


def stamp(moment: datetime) -> str:
    """As SQLAlchemy stores a UTCDateTime in SQLite: naive UTC text."""
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@pytest.fixture
def old_db(tmp_path: Any) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0013o")
    yield db
    db.dispose()


def test_the_migration_computes_the_state_of_existing_rows(old_db: Engine) -> None:
    stamps = [at(3, 20), at(6, 30, 20), at(7, 2), at(7, 9)]
    with old_db.begin() as c:
        c.execute(
            text(
                "INSERT INTO unit (id, code, name, name_folded, level, parent_id, path) "
                "VALUES (1, 'P', 'Tỉnh', 'tinh', 'province', NULL, '/1/')"
            )
        )
        c.execute(
            text(
                "INSERT INTO plan (id, province_id, year, title, report_deadlines, created_at) "
                "VALUES (1, 1, 2024, 'KH', '[]', '2024-01-02 00:00:00')"
            )
        )
        c.execute(
            text(
                'INSERT INTO task (id, plan_id, "order", stt, text, lead_raw, coordinating_raw,'
                " deadline_raw, deadline_kind, flags) VALUES (1, 1, 1, '1', 'NV', '', '', '',"
                " 'date', '[]'), (2, 1, 2, '2', 'NV', '', '', '', 'date', '[]')"
            )
        )
        c.execute(
            text(
                "INSERT INTO assignment (id, task_id, unit_id, role, status, percent, created_at)"
                " VALUES (1, 1, 1, 'lead', 'done', 100, '2024-01-02 00:00:00'),"
                " (2, 2, 1, 'lead', 'not_started', 0, '2024-01-02 00:00:00')"
            )
        )
        for moment, status, percent in zip(
            stamps, ["in_progress", "done", "done", "blocked"], [20, 100, None, None], strict=True
        ):
            c.execute(
                text(
                    "INSERT INTO progressupdate (assignment_id, status, percent, note_only,"
                    " created_at) VALUES (1, :s, :p, 0, :t)"
                ),
                {"s": status, "p": percent, "t": stamp(moment)},
            )
    upgrade(old_db)
    with Session(old_db) as session:
        first, second = session.get(Assignment, 1), session.get(Assignment, 2)
        assert first is not None and second is not None
        assert kept(first) == from_history(session, 1)
        assert first.history_status == "blocked" and first.history_percent == 100
        assert first.quarter_mark == Q3.start_moment and first.quarter_status == "done"
        assert first.quarter_done_since == at(6, 30, 20)
        assert kept(second) == from_history(session, 2)
        assert second.history_at is None and second.quarter_mark is None


def test_backfill_is_what_the_hook_keeps(session: Session, one: Assignment) -> None:
    for day in range(1, 60, 7):
        moment = at(6, 1) + timedelta(days=day)
        record_progress(
            session, one, "in_progress" if day % 2 else "done", day, None, source(moment)
        )
    session.commit()
    hooked = kept(one)
    backfill(session.connection())
    session.commit()
    session.refresh(one)
    assert kept(one) == hooked
