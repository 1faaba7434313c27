"""Issue 10, end to end: an official answers a reminder by the number the reminder shows,
and exactly that task changes (the reminder, the chat and the confirmation agree)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import col, select

from bot.scheduler.record import write
from bot.scheduler.reminders import plan_reminders
from bot.scheduler.working_time import WorkingTime
from kernel.clock import SystemClock
from storage.models import OutboxMessage, Task
from tests.handlers.helpers import World


def test_the_number_in_a_reminder_is_the_number_to_type(world: World) -> None:
    user = world.link("off1a")
    mine = world.assignments_of("off1a")
    later = SystemClock().now() + timedelta(days=60)  # the demo's rows are created "now"
    working = WorkingTime(world.settings.quiet_hours, world.settings.tz)
    with world.session() as session:
        planned = plan_reminders(session, world.settings, later, working, timedelta(days=59))
    write(world.engine, planned, later)
    with world.session() as session:
        reminders = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "reminder", OutboxMessage.chat_id == user)
            .order_by(col(OutboxMessage.id))
        ).all()
        stts = {t.stt.strip().rstrip(".") for t in session.exec(select(Task))}
    assert reminders
    for reminder in reminders:
        shown = re.search(r"^#(\d+) ", reminder.text, re.MULTILINE)
        assert shown is not None, reminder.text
        assert int(shown.group(1)) == reminder.assignment_id  # one number, everywhere
    # Typing the number the reminder shows changes that task and no other (before, the
    # reminder showed the plan's STT "2. …" and "2 60%" changed assignment #2).
    target = reminders[-1]
    number = target.assignment_id
    assert number in mine
    others = {a: world.assignment(a) for a in world.unit_assignments("DEMO-X01") if a != number}
    answer = world.texts(user, f"{number} 60%")
    changed = world.assignment(number)
    assert (changed.status, changed.percent) == ("in_progress", 60)
    assert answer.startswith(f"🔄 #{number} ")
    for other_id, before in others.items():
        after = world.assignment(other_id)
        assert (after.status, after.percent) == (before.status, before.percent)
    assert stts  # the plan has its own numbering, which the chat never reads
