"""Escalation: overdue by X days → the unit's chairs get a list; by Y days → the coordinator.

Each (assignment, level, due date) is escalated once: the key is in ReminderLog. All the
assignments crossing a threshold for the same recipients go in one list message (split when
long). There is no look-back limit: an overdue task is overdue until done, so a task that
crossed the line while the bot was down is still escalated, once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.scheduler.deliver import coordinators_above, officials_with_role
from bot.scheduler.policy import ReminderPolicy, effective_policy
from bot.scheduler.record import LogKey, Planned, existing_keys
from bot.scheduler.reminders import plan_policies
from bot.scheduler.split import split_text
from bot.scheduler.texts import escalation_text
from bot.scheduler.working_time import WorkingTime
from handlers.types import Outbound
from kernel.i18n import use_locale
from storage.models import Assignment, AssignmentRole, AssignmentStatus, Official, Role, Task, Unit
from storage.plan_admin import live_plan

TO_CHAIR = "escalate_chair"
TO_COORDINATOR = "escalate_coordinator"


def escalation_key(level: str, assignment_id: int, due: date) -> str:
    return f"{level}:{assignment_id}:{due.isoformat()}"


def _threshold(policy: ReminderPolicy, level: str) -> int:
    if level == TO_CHAIR:
        return policy.escalate_to_chair_after_days
    return policy.escalate_to_coordinator_after_days


def plan_escalations(
    session: Session, settings: Settings, now: datetime, working: WorkingTime
) -> list[Planned]:
    today = now.astimezone(working.tz).date()
    policies = plan_policies(session, settings)
    default = effective_policy(settings)
    rows = session.exec(
        select(Assignment, Task, Unit)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .where(Assignment.status != AssignmentStatus.DONE, Assignment.role == AssignmentRole.LEAD)
        .where(Task.deadline_kind == "date", col(Task.due_date).is_not(None))
        .where(col(Task.due_date) < today, live_plan())
        .order_by(col(Unit.path), col(Task.order))
    ).all()
    crossing: list[tuple[str, Assignment, Task, Unit, datetime]] = []
    for assignment, task, unit in rows:
        assert task.due_date is not None and assignment.id is not None
        policy = policies.get(task.plan_id, default)
        for level in (TO_CHAIR, TO_COORDINATOR):
            moment = working.day_moment(task.due_date + timedelta(days=_threshold(policy, level)))
            if moment <= now:
                crossing.append((level, assignment, task, unit, moment))
    keys = [escalation_key(lv, a.id or 0, t.due_date or today) for lv, a, t, _u, _m in crossing]
    logged = existing_keys(session, keys)
    fresh = [c for c, key in zip(crossing, keys, strict=True) if key not in logged]
    return _group(session, fresh, today, now)


def _group(
    session: Session,
    fresh: Sequence[tuple[str, Assignment, Task, Unit, datetime]],
    today: date,
    now: datetime,
) -> list[Planned]:
    """One list per (level, recipients): the unit's chairs, or the coordinating ancestor."""
    chairs = officials_with_role(session, {u.id or 0 for lv, _a, _t, u, _m in fresh}, Role.CHAIR)
    groups: dict[tuple[str, tuple[int, ...]], list[Any]] = defaultdict(list)
    people: dict[tuple[int, ...], list[Official]] = {}
    above_cache: dict[int, list[Official]] = {}
    for level, assignment, task, unit, moment in fresh:
        if level == TO_CHAIR:
            recipients = chairs.get(unit.id or 0, [])
        else:
            if unit.id not in above_cache:
                above_cache[unit.id or 0] = coordinators_above(session, unit)
            recipients = above_cache[unit.id or 0]
        ids = tuple(o.id or 0 for o in recipients)
        people[ids] = recipients
        groups[(level, ids)].append((assignment, task, unit, moment))
    planned: list[Planned] = []
    for (level, ids), members in groups.items():
        lines = [(u.name, t, (today - t.due_date).days, a.id or 0) for a, t, u, _m in members]
        outbounds: list[Outbound] = []
        for official in people[ids]:
            with use_locale(official.locale):
                text = escalation_text(lines, today, to_coordinator=level == TO_COORDINATOR)
            outbounds.extend(
                Outbound(part, official_id=official.id, kind="escalation")
                for part in split_text(text)
            )
        keys = [
            LogKey(
                escalation_key(level, a.id or 0, t.due_date or today),
                level,
                moment,
                assignment_id=a.id,
            )
            for a, t, _u, moment in members
        ]
        planned.append(Planned(keys, outbounds))
    return planned
