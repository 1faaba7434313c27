"""apply_inbound: one transaction, exactly once; enqueue: who gets which outbox row."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from bot.config import FloodConfig, Settings
from bot.pipeline import apply_inbound, enqueue
from handlers import router
from handlers.types import Button, Inbound, Outbound, OutFile
from kernel.clock import FixedClock
from storage.db import make_engine, session_scope
from storage.models import ChannelIdentity, Official, OutboxMessage, ProcessedUpdate, ProgressUpdate
from tests.handlers.helpers import World, make_world


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> World:
    return make_world(engine, clock.now())


def _count(world: World, model: type) -> int:
    with world.session() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _inbound(user: str, key: str, text: str) -> Inbound:
    return Inbound(
        channel="telegram",
        external_user_id=user,
        chat_id=user,
        update_key=key,
        received_at=datetime(2026, 6, 22, 2, tzinfo=UTC),
        message_id=f"m-{key}",
        text=text,
    )


def test_redelivered_update_changes_nothing_twice(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    first = world.send(user, f"{number} 50%", key="update-1")
    assert len(first) == 1
    again = apply_inbound(
        world.engine, _inbound(user, "update-1", f"{number} xong"), world.settings, world.now
    )
    assert again is None
    assert world.assignment(number).status == "in_progress"
    assert _count(world, ProgressUpdate) == 1
    assert _count(world, OutboxMessage) == 1
    assert _count(world, ProcessedUpdate) == 1


def test_same_key_on_another_channel_is_another_update(world: World) -> None:
    user = world.link("off1a")
    world.send(user, "/help", key="42")
    assert world.send(user, "/help", key="42", channel="console")  # a stranger there
    assert _count(world, ProcessedUpdate) == 2


def test_returns_the_new_outbox_ids(world: World) -> None:
    user = world.link("off1a")
    ids = apply_inbound(world.engine, _inbound(user, "u-7", "/nhiemvu"), world.settings, world.now)
    assert ids is not None and len(ids) == 1
    with world.session() as session:
        row = session.get(OutboxMessage, ids[0])
        assert row is not None and row.chat_id == user and row.status == "pending"


def test_a_crashing_handler_apologises_and_rolls_its_changes_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    real = router.handle

    def crash_after_writing(ctx: object) -> list[Outbound]:
        real(ctx)  # type: ignore[arg-type]  # writes the progress update...
        raise RuntimeError("boom")  # ...then fails

    monkeypatch.setattr(router, "handle", crash_after_writing)
    [row] = world.send(user, f"{number} xong", key="crash-1")
    assert "đã có lỗi" in row.text
    assert world.assignment(number).status == "not_started"
    assert _count(world, ProgressUpdate) == 0
    assert _count(world, ProcessedUpdate) == 1  # recorded: not redelivered for ever


def test_naive_now_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="naive"):
        apply_inbound(world.engine, _inbound("x", "k", "hi"), world.settings, datetime(2026, 1, 1))


def test_a_user_writing_again_is_reachable_again_and_may_move_chat(world: World) -> None:
    user = world.link("off1a")
    with session_scope(world.engine) as session:
        identity = session.exec(select(ChannelIdentity)).one()
        identity.unreachable_at = world.now
        session.add(identity)
    inbound = _inbound(user, "move-1", "/help")
    moved = Inbound(**{**{f: getattr(inbound, f) for f in inbound.__slots__}, "chat_id": "chat-2"})
    apply_inbound(world.engine, moved, world.settings, world.now)
    with world.session() as session:
        identity = session.exec(select(ChannelIdentity)).one()
    assert (identity.chat_id, identity.unreachable_at) == ("chat-2", None)


def test_deactivated_official_is_a_stranger(world: World) -> None:
    user = world.link("off1a")
    with session_scope(world.engine) as session:
        official = session.get(Official, world.people["off1a"].id)
        assert official is not None
        official.active = False
        session.add(official)
    assert "mã mời" in world.texts(user, "/nhiemvu")


def test_enqueue_to_an_official_is_one_row_in_one_reachable_chat(world: World) -> None:
    """Linked on two channels and written from neither: the oldest link gets the one row
    (tests/test_routing.py has the rest of the rule)."""
    world.link("off1a", channel="telegram")
    world.link("off1a", channel="zalo")
    world.link("off1b")
    with session_scope(world.engine) as session:
        zalo = session.exec(select(ChannelIdentity).where(ChannelIdentity.channel == "zalo")).one()
        off1b = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.official_id == world.people["off1b"].id)
        ).one()
        off1b.unreachable_at = world.now  # blocked the bot
        session.add(off1b)
        outbound = Outbound(
            "Nhắc việc",
            buttons=((Button("Xong", "a:5:done"),),),
            file=OutFile(path="/data/r.xlsx", file_name="r.xlsx"),
            official_id=world.people["off1a"].id,
            kind="reminder",
            assignment_id=world.assignments_of("off1a")[0],
            edit_message_id="99",
        )
        rows = enqueue(session, [outbound], world.now)
        silent = enqueue(session, [Outbound("x", official_id=world.people["off1b"].id)], world.now)
    assert silent == []
    assert [(r.channel, r.chat_id) for r in rows] == [
        ("telegram", f"u{world.people['off1a'].id}"),
    ]
    assert zalo.chat_id == f"u{world.people['off1a'].id}"  # linked, but not written to
    for row in rows:
        assert row.buttons == [[{"label": "Xong", "payload": "a:5:done"}]]
        assert (row.kind, row.file_name, row.file_path) == ("reminder", "r.xlsx", "/data/r.xlsx")
        assert row.assignment_id == outbound.assignment_id and row.id is not None
        assert row.edit_message_id is None  # edits only make sense in the reply chat
        assert row.next_attempt_at == world.now


def test_enqueue_reply_needs_a_chat(world: World) -> None:
    with session_scope(world.engine) as session:
        with pytest.raises(ValueError, match="reply_channel"):
            enqueue(session, [Outbound("hi")], world.now)
        [row] = enqueue(
            session,
            [Outbound("hi", reply_to_message_id="5", edit_message_id="6")],
            world.now,
            reply_channel="console",
            reply_chat_id="c1",
        )
    assert (row.channel, row.chat_id, row.reply_to_message_id, row.edit_message_id) == (
        "console",
        "c1",
        "5",
        "6",
    )


def _worker(db_url: str, user: str, keys: list[str], number: int, start: str) -> None:
    engine = make_engine(db_url)
    now = datetime.fromisoformat(start)
    # 40 updates from one sender at one moment: the flood guard would rightly hold most of
    # them back (tests/security/test_flood.py); here only exactly-once is under test.
    settings = Settings(flood=FloodConfig(enabled=False))
    for key in keys:
        apply_inbound(engine, _inbound(user, key, f"{number} 10% lần {key}"), settings, now)
    engine.dispose()


def test_two_processes_on_one_sqlite_file_apply_each_update_once(
    world: World, db_url: str, tmp_path: Path
) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    keys = [f"race-{n}" for n in range(40)]
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_worker, args=(db_url, user, keys, number, world.now.isoformat()))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    assert _count(world, ProcessedUpdate) == len(keys)
    assert _count(world, ProgressUpdate) == len(keys)
    assert _count(world, OutboxMessage) == len(keys)
