"""Plan the reminders due now: facts from the database → due items → texts per recipient."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.scheduler.deliver import assigned_officials, officials_with_role
from bot.scheduler.due import SILENCE, AssignmentFacts, DueItem, due_items
from bot.scheduler.policy import PolicyError, ReminderPolicy, effective_policy
from bot.scheduler.record import LogKey, Planned, existing_keys
from bot.scheduler.texts import reminder_text
from bot.scheduler.working_time import WorkingTime
from handlers.payloads import task_buttons
from handlers.types import Outbound
from kernel.i18n import use_locale
from storage.models import Assignment, AssignmentStatus, Official, Plan, Role, Task
from storage.plan_admin import live_plan

log = logging.getLogger(__name__)

# How far back a sweep looks for reminders it has not written yet: a bot that was down for
# less than this sends each missed reminder once when it comes back; older ones are dropped.
LOOKBACK = timedelta(days=7)


def plan_policies(session: Session, settings: Settings) -> dict[int, ReminderPolicy]:
    """Each plan's effective policy; a plan with a broken override falls back to the config."""
    default = effective_policy(settings)
    policies: dict[int, ReminderPolicy] = {}
    for plan in session.exec(select(Plan)):
        assert plan.id is not None
        try:
            policies[plan.id] = effective_policy(settings, plan)
        except PolicyError as exc:
            log.error("plan %s: using the default reminder policy: %s", plan.id, exc)
            policies[plan.id] = default
    return policies


def open_assignments(session: Session) -> list[AssignmentFacts]:
    query = (
        sa_select(
            col(Assignment.id),
            col(Task.plan_id),
            col(Assignment.unit_id),
            col(Assignment.role),
            col(Assignment.status),
            col(Assignment.created_at),
            col(Assignment.last_update_at),
            col(Task.deadline_kind),
            col(Task.due_date),
        )
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.status) != AssignmentStatus.DONE)
        .where(live_plan())
        .order_by(col(Assignment.id))
    )
    rows = session.exec(query).all()  # type: ignore[call-overload]
    return [AssignmentFacts(*row) for row in rows]


def _choose(items: Sequence[DueItem], logged: set[str]) -> tuple[DueItem | None, list[DueItem]]:
    """The one to send (the most urgent, unless already logged) and the ones it supersedes."""
    fresh = [item for item in items if item.key not in logged]
    if not fresh:
        return None, []
    chosen = max(fresh, key=lambda item: item.urgency)
    return chosen, [item for item in fresh if item is not chosen]


def plan_reminders(
    session: Session,
    settings: Settings,
    now: datetime,
    working: WorkingTime,
    lookback: timedelta = LOOKBACK,
) -> list[Planned]:
    policies = plan_policies(session, settings)
    default = effective_policy(settings)
    due: dict[int, list[DueItem]] = {}
    facts_by_id: dict[int, AssignmentFacts] = {}
    for facts in open_assignments(session):
        items = due_items(facts, policies.get(facts.plan_id, default), working, now, lookback)
        if items:
            due[facts.assignment_id] = items
            facts_by_id[facts.assignment_id] = facts
    if not due:
        return []
    logged = existing_keys(session, [item.key for items in due.values() for item in items])
    planned: list[Planned] = []
    to_send: list[tuple[DueItem, list[DueItem]]] = []
    for items in due.values():
        chosen, superseded = _choose(items, logged)
        if superseded:  # settled without a message of their own: the chosen one names them
            planned.append(Planned([_log_key(item) for item in superseded]))
        if chosen is not None:
            to_send.append((chosen, superseded))
    planned.extend(_render(session, to_send, facts_by_id, policies, default, now, working))
    return planned


def _log_key(item: DueItem) -> LogKey:
    return LogKey(item.key, item.kind, item.moment, assignment_id=item.assignment_id)


def _render(
    session: Session,
    sends: Sequence[tuple[DueItem, list[DueItem]]],
    facts_by_id: dict[int, AssignmentFacts],
    policies: dict[int, ReminderPolicy],
    default: ReminderPolicy,
    now: datetime,
    working: WorkingTime,
) -> list[Planned]:
    if not sends:
        return []
    items = [item for item, _also in sends]
    also_of = {item.key: also for item, also in sends}
    ids = [item.assignment_id for item in items]
    assigned = assigned_officials(session, ids)
    chairs = officials_with_role(session, {facts_by_id[i].unit_id for i in ids}, Role.CHAIR)
    recipients: dict[int, list[Official]] = {
        i: assigned.get(i) or chairs.get(facts_by_id[i].unit_id, []) for i in ids
    }
    task_ids = session.exec(
        select(Assignment.id, Assignment.task_id).where(col(Assignment.id).in_(ids))
    ).all()
    task_of = dict(task_ids)
    tasks = {
        t.id: t for t in session.exec(select(Task).where(col(Task.id).in_(set(task_of.values()))))
    }
    today = now.astimezone(working.tz).date()
    planned: list[Planned] = []
    for item in items:
        facts = facts_by_id[item.assignment_id]
        task = tasks[task_of[item.assignment_id]]
        policy = policies.get(facts.plan_id, default)
        seen = (facts.last_update_at or facts.created_at).astimezone(working.tz).date()
        outbounds: list[Outbound] = []
        for official in recipients[item.assignment_id]:
            with use_locale(official.locale):
                text = reminder_text(
                    item.kind,
                    task,
                    item.nominal,
                    today,
                    policy.report_deadlines,
                    silent_for=(today - seen).days if item.kind == SILENCE else 0,
                    number=item.assignment_id,
                    also=[(other.kind, other.nominal) for other in also_of[item.key]],
                )
                outbounds.append(
                    Outbound(
                        text,
                        buttons=task_buttons(item.assignment_id),
                        official_id=official.id,
                        kind="reminder",
                        assignment_id=item.assignment_id,
                    )
                )
        planned.append(Planned([_log_key(item)], outbounds))
    return planned
