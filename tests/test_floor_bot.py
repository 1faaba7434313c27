"""benchmarks/floor_bot.py, the "durable floor" of bench_telegram (issue 11): it must send
SQLite the same statements per status reply as papi-bot, commit once, skip a redelivered
update, and keep an unsent answer for its next start. If papi-bot's count changes, the floor
must follow, or the table compares two different amounts of work.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.pipeline import apply_inbound
from handlers.types import Inbound
from kernel.clock import FixedClock
from storage.models import OutboxMessage, OutboxStatus
from storage.queue import ClaimTerms
from tests.handlers.helpers import World, make_world
from tests.test_pipeline_statements import statements

# The worker of ``papi-bot run``: the answer is claimed for it in its own transaction.
RUNNING = ClaimTerms("here:1:abc", timedelta(seconds=300), frozenset({"telegram"}))
FLOOR_BOT = Path(__file__).resolve().parents[1] / "benchmarks" / "floor_bot.py"


@pytest.fixture(scope="module")
def floor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("floor_bot", FLOOR_BOT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["floor_bot"] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def traced(store: object, *args: str) -> tuple[object, list[str]]:
    """``store.apply(*args)`` and the first word of each statement SQLite ran for it."""
    seen: list[str] = []
    store.db.set_trace_callback(lambda sql: seen.append(sql.split()[0].upper()))  # type: ignore[attr-defined]
    try:
        return store.apply(*args), seen  # type: ignore[attr-defined]
    finally:
        store.db.set_trace_callback(None)  # type: ignore[attr-defined]


def papi_bot_statements(world: World) -> list[str]:
    """What papi-bot's status reply runs, with the clock moving as in a real run (a fixed
    clock never moves ``last_inbound_at``, one UPDATE less)."""
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} 20%", key="warm")  # the chat has a state, as in the bench
    with world.engine.begin() as connection:  # its answer was sent, as in the bench
        connection.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
    later = world.now + timedelta(seconds=1)
    inbound = Inbound(
        channel="telegram",
        external_user_id=user,
        chat_id=user,
        update_key="counted",
        received_at=later,
        message_id="m-counted",
        text=f"{number} 50%",
    )
    handed: list[object] = []
    with statements(world.engine) as seen:
        assert apply_inbound(
            world.engine, inbound, world.settings, later, handover=handed.extend, claim=RUNNING
        )
    assert len(handed) == 1  # as ``papi-bot run`` applies it: the answer is handed over
    return seen


def test_a_status_reply_is_papi_bots_statements_and_one_commit(
    floor: ModuleType, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    papi = papi_bot_statements(make_world(engine, clock.now()))
    store = floor.FloorStore(str(tmp_path / "floor.db"))
    store.apply("1", "m1", "u1", "u1", "/start 12,13")
    store.apply("2", "m2", "u1", "u1", "12 20%")
    row, seen = traced(store, "3", "m3", "u1", "u1", "12 50%")
    assert row is not None
    # pysqlite's own BEGIN and the commit are not seen by SQLAlchemy's cursor events
    assert seen[0] == "BEGIN" and seen[-1] == "COMMIT" and seen.count("COMMIT") == 1, seen
    work = seen[1:-1]
    assert work == papi  # the same kinds of statement, in the same order
    assert len(work) == 11
    percent = store.db.execute("SELECT percent FROM assignment WHERE id = 12").fetchone()
    assert percent == (50,)


def test_a_redelivered_update_writes_nothing(floor: ModuleType, tmp_path: Path) -> None:
    store = floor.FloorStore(str(tmp_path / "floor.db"))
    store.apply("1", "m1", "u1", "u1", "/start 12")
    assert store.apply("2", "m2", "u1", "u1", "12 40%") is not None
    row, seen = traced(store, "2", "m2", "u1", "u1", "12 40%")
    assert row is None
    assert seen == ["BEGIN", "INSERT", "ROLLBACK"]
    assert store.db.execute("SELECT count(*) FROM outbox").fetchone() == (2,)
    assert store.db.execute("SELECT count(*) FROM progress").fetchone() == (1,)


def test_an_answer_claimed_but_not_sent_is_sent_at_the_next_start(
    floor: ModuleType, tmp_path: Path
) -> None:
    store = floor.FloorStore(str(tmp_path / "floor.db"))
    link = store.apply("1", "m1", "u1", "u1", "/start 12")  # first in its chat: claimed with it
    status = store.apply("2", "m2", "u1", "u1", "12 40%")  # behind it: claimed in its turn
    assert (link[2], status[2]) == ("Đã liên kết tài khoản.", None)
    assert store.claim(*link[:2]) is None  # its version moved on: claimed once
    store.sent(link[0], 7)
    assert store.claim(*status[:2]) is not None  # the process dies before sending it
    again = floor.FloorStore(store.path)  # the next start
    [(row_id, attempts)] = again.unsent()
    assert row_id == status[0] and attempts == 1
    assert again.claim(row_id, attempts) == ("u1", "✅ #12: 40%. Đã ghi nhận.")


def test_a_number_not_the_senders_changes_nothing(floor: ModuleType, tmp_path: Path) -> None:
    store = floor.FloorStore(str(tmp_path / "floor.db"))
    store.apply("1", "m1", "u1", "u1", "/start 12")
    store.apply("2", "m2", "u2", "u2", "/start 13")
    row = store.apply("3", "m3", "u1", "u1", "13 40%")
    text = store.db.execute("SELECT text FROM outbox WHERE id = ?", (row[0],)).fetchone()
    assert text == ("Nhiệm vụ #13 không phải của bạn.",)
    assert store.db.execute("SELECT percent FROM assignment WHERE id = 13").fetchone() == (None,)
