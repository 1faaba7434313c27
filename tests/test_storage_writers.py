"""The named writes of storage/: what each changes, and the enumerated columns they store."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import Session, col, select

from kernel.clock import VN_TZ
from storage.conversation import clear_state, get_state, set_state
from storage.identities import Account, link_identity, note_chat
from storage.models import (
    Assignment,
    AssignmentOfficial,
    AssignmentStatus,
    ChannelIdentity,
    Official,
    Plan,
    ProgressUpdate,
    Role,
    Task,
    Unit,
    UnitLevel,
)
from storage.officials import set_locale
from storage.progress import NOTE_LIMIT, Source, assign_officials, record_progress
from storage.units import add_unit

NOW = datetime(2026, 6, 22, 9, 0, tzinfo=VN_TZ)


def _world(session: Session) -> tuple[Assignment, Official, Official]:
    province = add_unit(session, "P", "Tỉnh P", UnitLevel.PROVINCE, None)
    commune = add_unit(session, "C", "Xã C", UnitLevel.COMMUNE, province)
    assert commune.id is not None
    chair = Official(name="Chủ tịch", phone="+84900000001", unit_id=commune.id, role=Role.CHAIR)
    official = Official(name="Cán bộ", phone="+84900000002", unit_id=commune.id)
    plan = Plan(year=2026, title="Kế hoạch")
    session.add_all([chair, official, plan])
    session.flush()
    assert plan.id is not None
    task = Task(plan_id=plan.id, order=1, text="Niêm yết công khai")
    session.add(task)
    session.flush()
    assert task.id is not None
    assignment = Assignment(task_id=task.id, unit_id=commune.id)
    session.add(assignment)
    session.flush()
    return assignment, chair, official


def _fields(row: object, *names: str) -> tuple[object, ...]:
    """Read back (mypy narrows attributes it saw assigned, even after a call changed them)."""
    return tuple(getattr(row, name) for name in names)


def _source(official: Official, now: datetime = NOW) -> Source:
    return Source(official.id, "telegram", "m1", now)


def test_done_is_100_percent_with_a_done_time_and_no_blocking_reason(session: Session) -> None:
    assignment, _chair, official = _world(session)
    record_progress(
        session, assignment, AssignmentStatus.BLOCKED, None, "thiếu kinh phí", _source(official)
    )
    assert assignment.note == "thiếu kinh phí" and assignment.done_at is None
    later = NOW + timedelta(days=1)
    record_progress(
        session, assignment, AssignmentStatus.DONE, None, None, _source(official, later)
    )
    assert _fields(assignment, "status", "percent", "note") == ("done", 100, None)
    assert assignment.done_at == later and assignment.last_update_at == later
    update = session.exec(select(ProgressUpdate).order_by(col(ProgressUpdate.id).desc())).first()
    assert update is not None
    assert (update.status, update.percent, update.channel, update.external_message_id) == (
        "done",
        100,
        "telegram",
        "m1",
    )


def test_leaving_done_clears_the_done_time_and_a_note_alone_keeps_the_status(
    session: Session,
) -> None:
    assignment, _chair, official = _world(session)
    record_progress(session, assignment, AssignmentStatus.DONE, None, None, _source(official))
    record_progress(session, assignment, AssignmentStatus.IN_PROGRESS, 60, None, _source(official))
    assert (assignment.status, assignment.percent, assignment.done_at) == ("in_progress", 60, None)
    record_progress(session, assignment, None, None, "x" * (NOTE_LIMIT + 50), _source(official))
    assert assignment.status == "in_progress" and assignment.percent == 60
    assert assignment.note is not None and len(assignment.note) == NOTE_LIMIT
    updates = session.exec(select(ProgressUpdate).order_by(col(ProgressUpdate.id))).all()
    assert [u.status for u in updates] == ["done", "in_progress", "in_progress"]


def test_assigning_twice_adds_each_official_once(session: Session) -> None:
    assignment, chair, official = _world(session)
    assert assignment.id is not None and official.id is not None
    assert assign_officials(session, assignment.id, [official.id], chair.id, NOW) == [official.id]
    assert assign_officials(session, assignment.id, [official.id], chair.id, NOW) == []
    rows = session.exec(select(AssignmentOfficial)).all()
    assert [(r.official_id, r.assigned_by_id) for r in rows] == [(official.id, chair.id)]


def test_linking_moves_an_existing_identity_and_makes_it_reachable(session: Session) -> None:
    _assignment, chair, official = _world(session)
    assert chair.id is not None and official.id is not None
    account = Account("telegram", "u1", "c1", "Anh A")
    first = link_identity(session, account, chair.id, NOW)
    first.unreachable_at = NOW
    moved = link_identity(session, Account("telegram", "u1", "c2", None), official.id, NOW)
    assert moved.id == first.id
    assert (moved.official_id, moved.chat_id, moved.unreachable_at) == (official.id, "c2", None)
    moved.unreachable_at = NOW
    note_chat(session, moved, "c3", NOW)
    assert _fields(moved, "chat_id", "unreachable_at") == ("c3", None)
    assert len(session.exec(select(ChannelIdentity)).all()) == 1


def test_an_expired_state_is_gone(session: Session) -> None:
    set_state(session, "telegram", "c1", "focus", {"assignment_id": 1}, NOW, timedelta(minutes=30))
    found = get_state(session, "telegram", "c1", NOW + timedelta(minutes=29))
    assert found is not None and found.data == {"assignment_id": 1}
    assert get_state(session, "telegram", "c1", NOW + timedelta(minutes=30)) is None
    assert session.exec(text("SELECT count(*) FROM conversationstate")).one()[0] == 0  # type: ignore[call-overload]
    set_state(session, "telegram", "c1", "focus", {}, NOW, timedelta(minutes=30))
    clear_state(session, "telegram", "c1")
    assert get_state(session, "telegram", "c1", NOW) is None


def test_a_state_written_in_a_savepoint_that_rolls_back_is_not_remembered(
    session: Session,
) -> None:
    """The transaction remembers the state it read or wrote (no second read for the same
    chat), but not what a savepoint wrote: the savepoint's rollback undoes the row."""
    ttl = timedelta(minutes=30)
    set_state(session, "telegram", "c1", "focus", {"assignment_id": 1}, NOW, ttl)
    savepoint = session.begin_nested()
    set_state(session, "telegram", "c1", "await_note", {"assignment_id": 2}, NOW, ttl)
    set_state(session, "telegram", "c2", "focus", {"assignment_id": 3}, NOW, ttl)
    savepoint.rollback()
    kept = get_state(session, "telegram", "c1", NOW)
    assert kept is not None and (kept.kind, dict(kept.data)) == ("focus", {"assignment_id": 1})
    assert get_state(session, "telegram", "c2", NOW) is None
    # Replaced after the savepoint: the row read is updated, not inserted a second time.
    set_state(session, "telegram", "c1", "await_note", {"assignment_id": 1}, NOW, ttl)
    count = session.exec(text("SELECT count(*) FROM conversationstate")).one()[0]  # type: ignore[call-overload]
    assert count == 1


def test_set_locale_refuses_an_unknown_language(session: Session) -> None:
    _assignment, _chair, official = _world(session)
    assert official.id is not None
    set_locale(session, official.id, "en")
    assert official.locale == "en"  # the loaded object too
    with pytest.raises(ValueError):
        set_locale(session, official.id, "fr")
    session.expire_all()
    assert official.locale == "en"


def test_enumerated_columns_store_the_same_strings_and_read_back_members(
    session: Session,
) -> None:
    assignment, chair, _official = _world(session)
    record_progress(session, assignment, AssignmentStatus.IN_PROGRESS, 50, None, _source(chair))
    session.commit()
    raw = session.exec(  # type: ignore[call-overload]
        text("SELECT o.role, a.status, a.role FROM official o, assignment a WHERE o.id = :id"),
        params={"id": chair.id},
    ).one()
    assert tuple(raw) == ("chair", "in_progress", "lead")
    assert all(type(value) is str for value in raw)
    session.expire_all()
    loaded = session.get(Official, chair.id)
    unit = session.exec(select(Unit).where(Unit.code == "C")).one()
    assert loaded is not None and loaded.role is Role.CHAIR and unit.level is UnitLevel.COMMUNE
    assert session.exec(select(Official).where(Official.role == "chair")).one().id == chair.id


def test_a_value_outside_the_enumeration_is_refused(session: Session) -> None:
    _assignment, _chair, official = _world(session)
    official.role = "mayor"
    session.add(official)
    with pytest.raises(StatementError, match="mayor"):
        session.flush()
