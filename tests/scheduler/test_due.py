from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.config import QuietHoursConfig, Settings
from bot.scheduler.due import (
    BEFORE_DUE,
    DUE_DAY,
    OVERDUE,
    REPORT,
    SILENCE,
    AssignmentFacts,
    due_items,
)
from bot.scheduler.policy import effective_policy
from bot.scheduler.working_time import WorkingTime
from kernel.clock import VN_TZ
from tests.scheduler.world import vn

WORKING = WorkingTime(QuietHoursConfig(), VN_TZ)
POLICY = effective_policy(Settings())
LOOKBACK = timedelta(days=7)
CREATED = vn(2026, 7, 1, 9)


def facts(
    *,
    role: str = "lead",
    status: str = "in_progress",
    due: date | None = date(2026, 7, 17),
    kind: str = "date",
    created: datetime = CREATED,
    updated: datetime | None = None,
) -> AssignmentFacts:
    return AssignmentFacts(1, 1, 1, role, status, created, updated, kind, due)


def kinds_at(item_facts: AssignmentFacts, now: datetime) -> list[tuple[str, date, datetime]]:
    return [
        (i.kind, i.nominal, i.moment) for i in due_items(item_facts, POLICY, WORKING, now, LOOKBACK)
    ]


def test_before_due_reminders_at_eight_on_the_day() -> None:
    # due Friday 17/7: 7 days before = Fri 10/7, 3 = Tue 14/7, 1 = Thu 16/7
    assert kinds_at(facts(), vn(2026, 7, 10, 7, 59)) == []
    assert kinds_at(facts(), vn(2026, 7, 10, 8)) == [
        (BEFORE_DUE, date(2026, 7, 10), vn(2026, 7, 10, 8))
    ]
    at_due = kinds_at(facts(), vn(2026, 7, 17, 8))
    # the 7-day one is exactly a week old: outside the look-back (now - 7 days, now]
    assert [k for k, _n, _m in at_due] == [BEFORE_DUE, BEFORE_DUE, DUE_DAY]


def test_overdue_every_three_days_weekend_moves_to_monday() -> None:
    # due 17/7; overdue 20/7 (Mon), 23/7 (Thu), 26/7 (Sun -> Mon 27/7 08:00)
    items = kinds_at(facts(), vn(2026, 7, 27, 9))
    overdue = [(n, m) for k, n, m in items if k == OVERDUE]
    assert overdue == [  # 20/7 08:00 is more than 7 days before now
        (date(2026, 7, 23), vn(2026, 7, 23, 8)),
        (date(2026, 7, 26), vn(2026, 7, 27, 8)),
    ]


def test_done_assignment_gets_nothing() -> None:
    assert kinds_at(facts(status="done"), vn(2026, 7, 17, 9)) == []


def test_coordinating_assignment_gets_report_requests_only() -> None:
    # default calendar 20/3, 20/6, 30/11; 7 days before 30/11/2026 = Mon 23/11
    coordinating = facts(role="coordinating", due=date(2026, 11, 1))
    items = kinds_at(coordinating, vn(2026, 11, 23, 8))
    assert items == [(REPORT, date(2026, 11, 30), vn(2026, 11, 23, 8))]
    assert kinds_at(coordinating, vn(2026, 11, 5, 9)) == []  # overdue, but not its deadline


def test_recurring_lead_task_report_request_and_silence() -> None:
    recurring = facts(kind="recurring", due=None, created=vn(2026, 10, 20, 9))
    items = kinds_at(recurring, vn(2026, 11, 23, 9))
    assert (REPORT, date(2026, 11, 30), vn(2026, 11, 23, 8)) in items
    # created 20/10, no update: 21 days later = 10/11 (Tue)
    silence = kinds_at(recurring, vn(2026, 11, 10, 8))
    assert silence == [(SILENCE, date(2026, 11, 10), vn(2026, 11, 10, 8))]


def test_an_update_restarts_the_silence_count() -> None:
    updated = facts(kind="recurring", due=None, updated=vn(2026, 11, 2, 15))
    assert [k for k, _n, _m in kinds_at(updated, vn(2026, 11, 10, 9))] == []
    assert kinds_at(updated, vn(2026, 11, 23, 8))[0][:2] == (SILENCE, date(2026, 11, 23))


def test_look_back_is_bounded() -> None:
    # overdue reminders more than 7 days old are not due any more
    items = kinds_at(facts(), vn(2026, 8, 20, 9))
    assert items and all(m > vn(2026, 8, 13, 9) for _k, _n, m in items)


def test_nothing_before_the_assignment_existed() -> None:
    late = facts(created=vn(2026, 7, 15, 10))  # after the 7- and 3-day reminders
    assert [k for k, _n, _m in kinds_at(late, vn(2026, 7, 16, 8))] == [BEFORE_DUE]
