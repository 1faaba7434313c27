"""End to end over HTTP: the real bot process, aiogram's real session, the fake Bot API server."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, col, func, select

from bot.config import Settings
from bot.scheduler.sweep import sweep
from bot.scheduler.working_time import WorkingTime
from kernel.clock import VN_TZ, FixedClock
from kernel.textnorm import fold
from storage.db import session_scope
from storage.models import (
    Assignment,
    AssignmentOfficial,
    ChannelIdentity,
    Evidence,
    Official,
    OutboxMessage,
    ProcessedUpdate,
    ProgressUpdate,
    Task,
)
from storage.progress import assign_officials
from tests.e2e.conftest import World
from tests.fakes.fake_telegram import SentMessage

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

OFFICIAL, CHAIR, COORDINATOR = 7001, 7002, 7003


def payloads(messages: list[SentMessage]) -> list[str]:
    return [button["callback_data"] for m in messages for row in m.buttons for button in row]


def first_task_button(messages: list[SentMessage]) -> tuple[int, int]:
    """(message id, assignment id) of the first task button ("a:<id>:view")."""
    for message in messages:
        for row in message.buttons:
            for button in row:
                parts = button["callback_data"].split(":")
                if parts[0] == "a" and parts[2] == "view":
                    return message.message_id, int(parts[1])
    raise AssertionError(f"no task button in {[m.text for m in messages]}")


async def register(world: World, user_id: int, role: str) -> list[SentMessage]:
    replies = await world.say(user_id, f"/start {world.people.codes[role]}")
    assert replies, f"no answer to the {role}'s /start"
    return replies


async def test_the_whole_conversation_over_http(world: World) -> None:
    people = world.people
    # A stranger only learns how to get an invite.
    (stranger,) = await world.say(9999, "xin chào")
    assert "invite" in fold(stranger.text or "") or "moi" in fold(stranger.text or "")

    # Register: the chat is linked to the official.
    replies = await register(world, OFFICIAL, "official")
    assert people.official.name in (replies[0].text or "")
    with Session(world.engine) as session:
        identity = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.external_user_id == str(OFFICIAL))
        ).one()
        assert identity.official_id == people.official.id and identity.channel == "telegram"

    # List tasks, open one, mark it done with a button.
    listing = await world.say(OFFICIAL, "/nhiemvu")
    message_id, assignment_id = first_task_button(listing)
    task_view = await world.press(OFFICIAL, message_id, f"a:{assignment_id}:view")
    assert f"a:{assignment_id}:done" in payloads(task_view)
    assert world.fake.callback_answers, "the button's spinner was not stopped"
    done = await world.press(OFFICIAL, task_view[-1].message_id, f"a:{assignment_id}:done")
    assert done
    with Session(world.engine) as session:
        assignment = session.get(Assignment, assignment_id)
        assert assignment is not None and assignment.status == "done"

    # A typed progress note on another task of theirs.
    with Session(world.engine) as session:
        other = session.exec(
            select(AssignmentOfficial.assignment_id)
            .where(AssignmentOfficial.official_id == people.official.id)
            .where(AssignmentOfficial.assignment_id != assignment_id)
        ).first()
    assert other is not None
    note = await world.say(OFFICIAL, f"{other} 50% đã họp dân")
    assert note
    with Session(world.engine) as session:
        updated = session.get(Assignment, other)
        assert updated is not None and updated.status == "in_progress" and updated.percent == 50
        progress = session.exec(
            select(ProgressUpdate).where(ProgressUpdate.assignment_id == other)
        ).all()
        assert any("họp dân" in (p.note or "") for p in progress)

    # Evidence: a photo with the task number as caption.
    evidence_reply = await world.say(OFFICIAL, None, photo=True, caption=str(other))
    assert evidence_reply
    with Session(world.engine) as session:
        evidence = session.exec(select(Evidence).where(Evidence.assignment_id == other)).one()
        assert evidence.channel == "telegram" and evidence.file_id.endswith("-m")  # largest size

    # The chair assigns a commune task to the official, who is told.
    await register(world, CHAIR, "chair")
    with Session(world.engine) as session:
        unassigned = session.exec(
            select(Assignment.id)
            .where(Assignment.unit_id == people.chair.unit_id)
            .where(
                col(Assignment.id).not_in(
                    select(AssignmentOfficial.assignment_id).where(
                        AssignmentOfficial.official_id == people.official.id
                    )
                )
            )
        ).first()
    assert unassigned is not None
    menu = await world.say(CHAIR, f"/giao {unassigned}")
    pick = f"g:{unassigned}:{people.official.id}"
    assert pick in payloads(menu), payloads(menu)
    before = len(world.fake.sent_to(OFFICIAL))
    await world.press(CHAIR, menu[-1].message_id, pick)
    await world.settle(0, str(OFFICIAL))
    assert len(world.fake.sent_to(OFFICIAL)) > before, "the official was not told"
    with Session(world.engine) as session:
        link = session.get(AssignmentOfficial, (unassigned, people.official.id))
        assert link is not None and link.assigned_by_id == people.chair.id

    # The coordinator's province summary.
    await register(world, COORDINATOR, "coordinator")
    (summary, *_rest) = await world.say(COORDINATOR, "/tonghop")
    assert summary.text and len(summary.text) > 20

    # Switch to English: the answer and what follows are in English.
    await world.say(OFFICIAL, "/lang en")
    helped = await world.say(OFFICIAL, "/help")
    with Session(world.engine) as session:
        official = session.get(Official, people.official.id)
        assert official is not None and official.locale == "en"
    assert "/tasks" in (helped[0].text or "") or "task" in fold(helped[0].text or "")

    # Every message that was due went out exactly once (reminders may wait for working hours).
    await world.settle(0)
    with Session(world.engine) as session:
        statuses = session.exec(select(OutboxMessage.status)).all()
    assert statuses and set(statuses) <= {"sent", "pending"}
    assert len(world.fake.sent) == statuses.count("sent")


async def test_a_reminder_is_answered_by_the_number_it_shows(world: World) -> None:
    """The number a reminder shows ("#12") is the number that changes that task: the
    official types "12 60%" and exactly that assignment moves, named in the answer."""
    settings = Settings()
    working = WorkingTime(settings.quiet_hours, settings.tz)
    day = datetime.now(VN_TZ).date()
    while not working.is_working_day(day) or working.at_send_time(day) + timedelta(
        hours=1
    ) > datetime.now(VN_TZ):
        day -= timedelta(days=1)
    chat = str(OFFICIAL)
    with session_scope(world.engine) as session:  # a task of his commune, his, due that day
        target = session.exec(
            select(Assignment)
            .where(Assignment.unit_id == world.people.official.unit_id)
            .where(Assignment.status == "not_started", Assignment.role == "lead")
            .order_by(col(Assignment.id))
        ).first()
        assert target is not None and target.id is not None
        official, chair = world.people.official, world.people.chair
        assign_officials(session, target.id, [official.id or 0], chair.id, datetime.now(VN_TZ))
        task = session.get(Task, target.task_id)
        assert task is not None
        task.due_date, task.deadline_kind = day, "date"
        session.add(task)
        # The demo was created just now; a reminder is never about a moment before that.
        target.created_at = working.at_send_time(day) - timedelta(days=1)
        session.add(target)
    # The sweep the running bot does every minute, at that working morning (whichever runs
    # first writes the reminder: the reminder log keeps it to one).
    moment = working.at_send_time(day) + timedelta(hours=1)
    sweep(world.engine, settings, FixedClock(moment), digests=False)
    with Session(world.engine) as session:
        reminder = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == chat, OutboxMessage.kind == "reminder")
            .where(OutboxMessage.assignment_id == target.id)
            .order_by(col(OutboxMessage.id))
        ).first()
    assert reminder is not None, "the sweep wrote no reminder for the task due that day"
    await world.say(OFFICIAL, "/help")  # any message wakes the outbox worker
    for _ in range(500):
        if any(m.text == reminder.text for m in world.fake.sent_to(OFFICIAL)):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the reminder was not delivered")
    shown = re.search(r"#(\d+)", reminder.text)
    assert shown is not None, reminder.text
    number = int(shown.group(1))
    assert number == reminder.assignment_id  # the number shown is the task's own number
    with Session(world.engine) as session:
        before = {a.id: (a.status, a.percent) for a in session.exec(select(Assignment)).all()}
    (answer,) = await world.say(OFFICIAL, f"{number} 60%")
    assert f"#{number}" in (answer.text or "") and "60%" in (answer.text or "")
    with Session(world.engine) as session:
        after = {a.id: (a.status, a.percent) for a in session.exec(select(Assignment)).all()}
    assert after[number] == ("in_progress", 60)
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {number}  # no other task of the commune moved


async def test_sigkill_mid_burst_loses_and_repeats_nothing(world: World) -> None:
    """500 updates from 50 strangers; SIGKILL half way; after a restart each applied once."""
    users = [8000 + n for n in range(50)]
    ids = [
        await world.fake.inject_message(user, f"tin nhắn {round_}")
        for round_ in range(10)
        for user in users
    ]
    first, last = ids[0], ids[-1]
    total = 10 * len(users)

    for _ in range(3000):  # kill once a good part, but not all, was applied
        if world.fake.confirmed_offset > total // 3 or len(world.fake.sent) > total // 4:
            break
        await asyncio.sleep(0.01)
    await world.bot.kill()
    killed_at = (world.fake.confirmed_offset, len(world.fake.sent))
    with Session(world.engine) as session:
        applied = session.exec(
            select(func.count())
            .select_from(ProcessedUpdate)
            .where(ProcessedUpdate.channel == "telegram")
        ).one()
    before_burst = first - 1  # updates of the earlier test, all applied
    assert 0 < applied - before_burst < total, "the kill did not land in the middle of the burst"

    await world.bot.start()
    await world.settle(last)

    world.assert_burst_applied_once(users, 10)
    with Session(world.engine) as session:
        unsent = session.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        ).one()
        assert unsent == 0
    delivered = sum(len(world.fake.sent_to(user)) for user in users)
    # At-least-once with the platform: only a send in flight at the kill may arrive twice.
    assert total <= delivered <= total + 64, (killed_at, delivered)
