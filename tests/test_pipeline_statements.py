"""How much SQL one status reply costs (issue 11): the statements an update runs are counted,
so a change that brings back a query per check (or a savepoint, or a second flush) fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.pipeline import apply_inbound
from handlers import router
from handlers.types import Inbound, Outbound
from kernel.clock import FixedClock
from storage.models import ConversationState, OutboxMessage, ProgressUpdate
from tests.handlers.helpers import World, make_world


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> World:
    return make_world(engine, clock.now())


def counted(world: World, user: str, text: str, key: str) -> tuple[list[str], list[str]]:
    """Apply one message from ``user``; the statements it ran (first word) and its replies."""
    inbound = Inbound(
        channel="telegram",
        external_user_id=user,
        chat_id=user,
        update_key=key,
        received_at=world.now,
        message_id=f"m-{key}",
        text=text,
    )
    with statements(world.engine) as seen:
        ids = apply_inbound(world.engine, inbound, world.settings, world.now) or []
    with world.session() as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))).all()
        return seen, [row.text for row in rows]


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_status_reply_to_an_own_task_is_nine_statements_and_one_commit(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} 20%", key="warm")  # the chat now has a state (focus)
    seen, [text] = counted(world, user, f"{number} 50%", "counted")
    # processed mark; identity + official; the sender's flood window (one upsert, kept in
    # the database so several workers agree: bot/flood.py); state; assignment + task + plan +
    # assignees; UPDATE assignment, UPDATE state, INSERT progress, INSERT outbox (one flush).
    assert seen.count("SELECT") == 3, seen
    assert seen.count("INSERT") == 4, seen  # with the flood window's upsert
    assert seen.count("SAVEPOINT") == 0
    assert len(seen) <= 9, seen
    assert "50%" in text
    assert world.assignment(number).percent == 50


def test_a_refused_number_lists_the_open_tasks_in_one_query(world: World) -> None:
    user = world.link("off1a")
    theirs = set(world.assignments_of("off1a"))
    other = next(a for a in world.unit_assignments("DEMO-X02") if a not in theirs)
    seen, [text] = counted(world, user, f"{other} xong", "refused")
    assert f"#{other}" in text
    assert all(f"#{number}" in text for number in theirs)
    # processed mark; identity + official; UPDATE its last message time; the flood window
    # (one upsert); state; the number's item + assignees (not theirs, and a plain official
    # oversees nothing: no more queries); my_items (one query, the chair check inside);
    # INSERT outbox.
    assert seen.count("SELECT") == 4, seen
    assert len(seen) == 8, seen
    assert world.assignment(other).status == "not_started"


def test_the_state_read_in_a_transaction_is_not_read_again_but_a_new_one_is(
    world: World,
) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} 20%", key="first")  # focus on the task
    with world.session() as session:  # another process moves the chat's state on
        state = session.exec(select(ConversationState)).one()
        state.kind = "await_note"
        state.data = {"assignment_id": number}
        session.add(state)
        session.commit()
    [row] = world.send(user, "họp dân xong rồi", key="note")  # read afresh: a note
    assert "đã lưu ghi chú" in row.text
    with world.session() as session:
        notes = session.exec(
            select(ProgressUpdate.note).where(col(ProgressUpdate.note_only).is_(True))
        ).all()
    assert notes == ["họp dân xong rồi"]


def test_a_crash_after_setting_a_state_keeps_no_state(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    real = router.handle

    def crash_after_writing(ctx: object) -> list[Outbound]:
        real(ctx)  # type: ignore[arg-type]  # sets the focus state, records progress...
        raise RuntimeError("boom")  # ...then fails

    monkeypatch.setattr(router, "handle", crash_after_writing)
    [row] = world.send(user, f"{number} 50%", key="crash")
    assert "đã có lỗi" in row.text
    with world.session() as session:
        assert session.exec(select(ConversationState)).all() == []
        assert session.exec(select(ProgressUpdate)).all() == []
        assert len(session.exec(select(OutboxMessage)).all()) == 1


def test_a_status_reply_writes_only_the_assignment_columns_it_changes(world: World) -> None:
    """The assignment's UPDATE sets the columns the change gives (its own and the kept
    latest state), not every kept period's columns again: each was a bound parameter,
    most of them datetimes, for nothing."""
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} 20%", key="warm")  # this period's start is noted here
    written: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.startswith("UPDATE assignment SET"):
            written.append(statement)

    event.listen(world.engine, "before_cursor_execute", note)
    try:
        counted(world, user, f"{number} 50%", "counted")
    finally:
        event.remove(world.engine, "before_cursor_execute", note)
    [statement] = written
    assigned = statement.removeprefix("UPDATE assignment SET ").split(" WHERE ")[0]
    columns = {part.split("=")[0].strip() for part in assigned.split(",")}
    assert {"percent", "last_update_at", "history_percent", "history_at"} <= columns
    assert not any(
        name.endswith(("_mark", "_at")) and name.split("_")[0] in _PERIODS for name in columns
    ), columns
    assert world.assignment(number).percent == 50


_PERIODS = ("week", "month", "quarter", "half", "year")
