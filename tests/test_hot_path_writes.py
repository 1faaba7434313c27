"""The status reply's writes around the ORM (issue 11), on SQLite and on PostgreSQL: the
processed mark with its earlier key, the chat noted on the identity, the conversation state and
the progress row with its assignment are prebuilt Core statements, so what they leave in the
database is checked here against what the ORM objects say and what the history says.

The PostgreSQL half runs when ``PAPI_BOT_TEST_POSTGRES_URL`` points at a server on 127.0.0.1
(``scripts/postgres-for-tests.sh``; CI starts one), each test in a database of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.pipeline import apply_inbound
from handlers.queries import item_with_assignees
from handlers.types import EarlierKey, Inbound
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.item_values import AssignmentValues, TaskValues
from storage.models import (
    Assignment,
    ChannelIdentity,
    ConversationState,
    ProcessedUpdate,
    ProgressUpdate,
    Task,
)
from storage.progress import Source, record_progress
from tests.handlers.helpers import World, make_world
from tests.pgdb import migrated_on
from tests.test_history_state import from_history, kept


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hot_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_on(request.param, tmp_path)


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_on("postgres", tmp_path)


@pytest.fixture
def world(hot_engine: Engine, clock: FixedClock) -> World:
    return make_world(hot_engine, clock.now())


def _state(world: World, chat: str) -> ConversationState | None:
    with world.session() as session:
        return session.exec(
            select(ConversationState).where(col(ConversationState.chat_id) == chat)
        ).first()


def test_status_replies_leave_the_rows_the_history_says(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    start = world.now
    # No state yet (INSERT), a state to replace (UPDATE), an expired one (DELETE, INSERT).
    steps = [(0, f"{number} 40%"), (1, f"{number} vướng: thiếu kinh phí"), (120, f"{number} xong")]
    for minutes, message in steps:
        world.now = start + timedelta(minutes=minutes)
        assert world.texts(user, message)
        state = _state(world, user)
        assert state is not None and state.kind == "focus"
        assert state.data == {"assignment_id": number}
        assert state.updated_at == world.now
        assert state.expires_at == world.now + timedelta(minutes=30)
    with world.session() as session:
        assert len(session.exec(select(ConversationState)).all()) == 1
        updates = session.exec(
            select(ProgressUpdate).where(col(ProgressUpdate.assignment_id) == number)
        ).all()
        assert [(u.status, u.percent, u.note) for u in updates] == [
            ("in_progress", 40, None),
            ("blocked", None, "thiếu kinh phí"),
            ("done", 100, None),
        ]
        assignment = world.assignment(number)
        assert (assignment.status, assignment.percent, assignment.note) == ("done", 100, None)
        assert assignment.done_at == world.now and assignment.last_update_at == world.now
        assert kept(assignment) == from_history(session, number)
        assert assignment.done_since == world.now


def test_the_identity_follows_the_chat_and_never_goes_back_in_time(world: World) -> None:
    user = world.link("off1a")
    with session_scope(world.engine) as session:
        identity = session.exec(
            select(ChannelIdentity).where(col(ChannelIdentity.external_user_id) == user)
        ).one()
        identity.unreachable_at = world.now
    later = world.now + timedelta(hours=1)

    def write(key: str, chat: str, at: timedelta) -> None:
        inbound = Inbound("telegram", user, chat, key, world.now + at, text="/help")
        assert apply_inbound(world.engine, inbound, world.settings, world.now + at)

    write("a", "moved", timedelta(hours=1))
    write("b", "moved-again", timedelta(minutes=5))  # written earlier, arrived late
    with world.session() as session:
        identity = session.exec(
            select(ChannelIdentity).where(col(ChannelIdentity.external_user_id) == user)
        ).one()
        assert identity.chat_id == "moved-again" and identity.unreachable_at is None
        assert identity.last_inbound_at == later


def test_a_message_applied_under_its_earlier_key_is_not_applied_again(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    since = world.now - timedelta(minutes=10)
    with session_scope(world.engine) as session:
        session.add(ProcessedUpdate(channel="telegram", update_key="77", processed_at=world.now))
        old = world.now - timedelta(hours=1)  # another message that had the same bare id
        session.add(ProcessedUpdate(channel="telegram", update_key="78", processed_at=old))

    def apply(key: str, earlier: str) -> list[int] | None:
        inbound = Inbound(
            "telegram",
            user,
            user,
            key,
            world.now,
            text=f"{number} 30%",
            earlier_key=EarlierKey(earlier, since),
        )
        return apply_inbound(world.engine, inbound, world.settings, world.now)

    assert apply("bot:m:1", "77") is None  # applied before the upgrade: nothing more
    assert apply("bot:m:2", "78")  # the old row is another message's: this one is new
    assert apply("bot:m:2", "78") is None  # and now it is applied
    with world.session() as session:
        keys = session.exec(select(ProcessedUpdate.update_key)).all()
        assert sorted(keys) == ["77", "78", "bot:m:2"]
        assert len(session.exec(select(ProgressUpdate)).all()) == 1
    assert world.assignment(number).percent == 30


def test_two_updates_in_one_transaction_still_agree_with_the_history(world: World) -> None:
    """Changes written at once, one after another in one transaction, then one older than
    the latest (which goes through the ORM, whose flush hook replays the history)."""
    number = world.assignments_of("off1a")[0]
    with Session(world.engine, expire_on_commit=False) as session:
        assignment = world.assignment(number)
        assignment = session.merge(assignment)
        at = world.now
        record_progress(session, assignment, "in_progress", 10, None, Source(None, None, None, at))
        later = at + timedelta(days=100)  # another quarter: its start state is noted
        record_progress(session, assignment, "done", None, None, Source(None, None, None, later))
        back = at + timedelta(days=1)  # back-dated: replayed by the flush hook
        record_progress(session, assignment, "blocked", None, "x", Source(None, None, None, back))
        session.commit()
    with world.session() as session:
        stored = world.assignment(number)
        assert kept(stored) == from_history(session, number)
        assert stored.history_status == "done" and stored.quarter_status == "blocked"


def test_plain_values_are_the_rows_columns_and_take_what_is_written(world: World) -> None:
    """A status reply reads its item as plain values (``storage.item_values``): the same
    columns the ORM gives; written at once, then back-dated (through the ORM, whose flush
    hook replays the history), they hold what was written, and an ORM copy the session
    holds of the assignment agrees with the row."""
    number = world.assignments_of("off1a")[0]
    official = world.people["off1a"].id
    with Session(world.engine, expire_on_commit=False) as session:
        found = item_with_assignees(session, number, official)
        assert found is not None
        entry, assignees = found
        values, task = entry.assignment, entry.task
        assert isinstance(values, AssignmentValues) and isinstance(task, TaskValues)
        orm = session.get_one(Assignment, number)
        orm_task = session.get_one(Task, orm.task_id)
        assert {f.name: getattr(orm, f.name) for f in fields(values)} == asdict(values)
        assert {f.name: getattr(orm_task, f.name) for f in fields(task)} == asdict(task)
        assert assignees.mine or not assignees.anyone
        at = world.now
        record_progress(session, values, "in_progress", 40, "họp dân", Source(None, None, None, at))
        assert (values.status, values.percent, values.note) == ("in_progress", 40, "họp dân")
        assert (values.last_update_at, values.history_at) == (at, at)
        assert (orm.status, orm.percent, orm.history_at) == ("in_progress", 40, at)  # kept in step
        back = at - timedelta(days=1)
        record_progress(session, values, "blocked", None, "x", Source(None, None, None, back))
        assert (values.status, values.note, values.last_update_at) == ("blocked", "x", back)
        session.commit()
    with world.session() as session:
        stored = world.assignment(number)
        assert (stored.status, stored.note) == ("blocked", "x")
        assert kept(stored) == from_history(session, number)
        assert stored.history_status == "in_progress"  # the back-dated one is not the latest


def test_plain_values_read_earlier_defer_to_the_sessions_own_copy(world: World) -> None:
    """Values read before the session's ORM copy took a later update are older than the row:
    an update between the two is read against the copy (back-dated: replayed by the ORM), so
    the kept state still says what the history says."""
    number = world.assignments_of("off1a")[0]
    with Session(world.engine, expire_on_commit=False) as session:
        found = item_with_assignees(session, number, world.people["off1a"].id)
        assert found is not None
        values = found[0].assignment
        orm = session.get_one(Assignment, number)
        later, between = world.now + timedelta(hours=2), world.now + timedelta(hours=1)
        record_progress(session, orm, "in_progress", 60, None, Source(None, None, None, later))
        record_progress(session, values, "blocked", None, "x", Source(None, None, None, between))
        session.commit()
    with world.session() as session:
        stored = world.assignment(number)
        assert kept(stored) == from_history(session, number)
        assert (stored.history_status, stored.history_at) == ("in_progress", later)


def test_an_item_that_does_not_exist_reads_as_none(world: World) -> None:
    with world.session() as session:
        assert item_with_assignees(session, 999_999, None) is None


@pytest.mark.postgres
def test_two_workers_changing_one_assignment_keep_what_the_history_says(
    pg_engine: Engine, clock: FixedClock
) -> None:
    """PostgreSQL, READ COMMITTED: one transaction read the assignment, another changed and
    committed it meanwhile; the first one's change is written on top of that one (the row is
    locked and read again), so the row and its kept state are what the whole history says."""
    world = make_world(pg_engine, clock.now())
    number = world.assignments_of("off1a")[0]
    at = world.now
    with Session(pg_engine, expire_on_commit=False) as first:
        stale = first.get(Assignment, number)  # read, and kept in this transaction
        assert stale is not None and stale.status == "not_started"
        with Session(pg_engine) as second:
            other = second.get(Assignment, number)
            assert other is not None
            record_progress(second, other, "done", None, None, Source(None, None, None, at))
            second.commit()
        later = Source(None, None, None, at + timedelta(minutes=1))
        record_progress(first, stale, None, None, "ghi chú sau", later)  # a note only
        first.commit()
    with world.session() as session:
        stored = world.assignment(number)
        assert (stored.status, stored.percent, stored.note) == ("done", 100, "ghi chú sau")
        assert kept(stored) == from_history(session, number)
        assert stored.done_since == at
