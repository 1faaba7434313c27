"""Which reminders are due for one assignment at one moment (pure: no database).

Every reminder is about a calendar day (``nominal``): N days before the due date, the due
date, every K days after it, D days before a report deadline, S days after the last update.
It goes out at ``send_at`` (08:00) on that day, or on the next working day when that day is
a weekend or holiday. The sweep only writes while it is working time, so nothing is created
in quiet hours: what fell there is created by the first sweep of the next working moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.scheduler.policy import ReminderPolicy
from bot.scheduler.working_time import WorkingTime
from storage.enums import AssignmentRole, AssignmentStatus

BEFORE_DUE = "before_due"
DUE_DAY = "due_day"
OVERDUE = "overdue"
REPORT = "report"
SILENCE = "silence"
REMINDER_KINDS = (BEFORE_DUE, DUE_DAY, OVERDUE, REPORT, SILENCE)
# When several reminders of one assignment are due at once (after a down-time), the most
# urgent fact is sent (overdue beats due today beats due soon beats a status request beats
# silence), the latest of its kind; the message names the others.
_URGENCY = {OVERDUE: 5, DUE_DAY: 4, BEFORE_DUE: 3, REPORT: 2, SILENCE: 1}
# A nominal day can be pushed this far by weekends + Tết; candidates start this much earlier.
_MAX_PUSH = timedelta(days=20)


@dataclass(frozen=True, slots=True)
class AssignmentFacts:
    """What the due-computation needs to know about one assignment and its task."""

    assignment_id: int
    plan_id: int
    unit_id: int
    role: str  # lead | coordinating
    status: str
    created_at: datetime
    last_update_at: datetime | None
    deadline_kind: str  # date | recurring | term | unknown
    due_date: date | None


@dataclass(frozen=True, slots=True)
class DueItem:
    kind: str  # REMINDER_KINDS
    assignment_id: int
    nominal: date  # the day the reminder is about (a report deadline for REPORT)
    moment: datetime  # when it may go out: send_at on the nominal day or the next working day

    @property
    def key(self) -> str:
        return reminder_key(self.kind, self.assignment_id, self.nominal)

    @property
    def urgency(self) -> tuple[int, datetime, date]:
        return _URGENCY.get(self.kind, 0), self.moment, self.nominal


def reminder_key(kind: str, assignment_id: int, nominal: date) -> str:
    """The exactly-once key: (assignment, kind, due moment)."""
    return f"{kind}:{assignment_id}:{nominal.isoformat()}"


def _report_deadlines(month_days: tuple[str, ...], first: date, last: date) -> Iterator[date]:
    for year in range(first.year, last.year + 2):
        for month_day in month_days:
            month, day = (int(part) for part in month_day.split("-"))
            try:
                yield date(year, month, day)
            except ValueError:  # 02-29 in a common year
                continue


def _every(start: date, step: int, first: date, last: date) -> Iterator[date]:
    """start + step, start + 2*step, ... within [first, last]."""
    if last <= start:
        return
    k = max(1, -(-(first - start).days // step))
    day = start + timedelta(days=k * step)
    while day <= last:
        yield day
        day += timedelta(days=step)


def _candidates(
    facts: AssignmentFacts, policy: ReminderPolicy, first: date, last: date, seen_day: date
) -> Iterator[tuple[str, date, date]]:
    """(kind, nominal key day, day it goes out) for nominal days within [first, last]."""
    dated = facts.deadline_kind == "date" and facts.due_date is not None
    lead = facts.role == AssignmentRole.LEAD
    if lead and dated:
        assert facts.due_date is not None
        due = facts.due_date
        for days in policy.days_before_due:
            yield BEFORE_DUE, due - timedelta(days=days), due - timedelta(days=days)
        if policy.on_due_day:
            yield DUE_DAY, due, due
        for day in _every(due, policy.overdue_every_days, first, last):
            yield OVERDUE, day, day
    if not (lead and dated):  # coordinating assignments: report requests only
        for deadline in _report_deadlines(policy.report_deadlines, first, last):
            yield REPORT, deadline, deadline - timedelta(days=policy.report_days_before)
    if lead:  # silence is counted from the local day of the last update (or the creation)
        yield from ((SILENCE, d, d) for d in _every(seen_day, policy.silence_days, first, last))


def due_items(
    facts: AssignmentFacts,
    policy: ReminderPolicy,
    working: WorkingTime,
    now: datetime,
    lookback: timedelta,
) -> list[DueItem]:
    """Reminders whose moment is in ``(now - lookback, now]`` and after the assignment was
    created, oldest first. Done assignments get none."""
    if facts.status == AssignmentStatus.DONE:
        return []
    local_now = now.astimezone(working.tz)
    earliest = now - lookback
    first = (earliest - _MAX_PUSH).astimezone(working.tz).date()
    last = local_now.date()
    last_seen = facts.last_update_at or facts.created_at
    seen_day = last_seen.astimezone(working.tz).date()
    items: list[DueItem] = []
    for kind, nominal, send_day in _candidates(facts, policy, first, last, seen_day):
        if not first <= send_day <= last:
            continue
        moment = working.day_moment(send_day)
        if earliest < moment <= now and moment >= facts.created_at:
            items.append(DueItem(kind, facts.assignment_id, nominal, moment))
    return sorted(items, key=lambda item: (item.moment, item.nominal))
