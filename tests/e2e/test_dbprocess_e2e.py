"""The real ``papi-bot run`` on SQLite with its database process (``bot.dbprocess``): the
process is there, and SIGKILLing it in the middle of a burst loses and repeats nothing —
the bot starts another, every update is applied once and answered."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from storage.models import ProcessedUpdate
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _database_process(world: World) -> int:
    """The bot's one live child, its database process (a zombie has no command line)."""
    assert world.bot.proc is not None
    live = []
    for child in _children(world.bot.proc.pid):
        with contextlib.suppress(OSError):
            if b"bot.dbprocess" in Path(f"/proc/{child}/cmdline").read_bytes():
                live.append(child)
    (child,) = live
    return child


async def test_the_bot_writes_through_its_database_process(world: World) -> None:
    (answer,) = await world.say(7000, "/start")  # a stranger: the welcome
    assert answer.text
    child = _database_process(world)
    assert os.getpid() != child


async def test_sigkill_of_the_database_process_mid_burst_loses_and_repeats_nothing(
    world: World,
) -> None:
    users = [9000 + n for n in range(40)]
    ids = [
        await world.fake.inject_message(user, f"tin nhắn {round_}")
        for round_ in range(8)
        for user in users
    ]
    total = len(ids)
    first_child = _database_process(world)
    for _ in range(3000):  # kill once a good part, but not all, was applied
        if world.fake.confirmed_offset > ids[0] + total // 3:
            break
        await asyncio.sleep(0.01)
    os.kill(first_child, signal.SIGKILL)
    with Session(world.engine) as session:
        applied = session.exec(
            select(func.count())
            .select_from(ProcessedUpdate)
            .where(ProcessedUpdate.update_key.contains(":m:90"))  # type: ignore[attr-defined]
        ).one()
    assert 0 < applied < total, "the kill did not land in the middle of the burst"

    await world.settle(ids[-1])
    assert _database_process(world) != first_child  # the bot started another
    world.assert_burst_applied_once(users, 8)
    # At-least-once: only the send in flight in a chat when the process died may go twice
    # (its "sent" was never written), so each chat got its 8 answers and at most one again.
    delivered = {user: len(world.fake.sent_to(user)) for user in users}
    assert all(8 <= count <= 9 for count in delivered.values()), delivered
    assert "the database process ended" in world.bot.log_text()
