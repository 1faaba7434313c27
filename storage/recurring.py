"""Recurring tasks ("Thường xuyên"): reported per period, never closed for good.

For a task whose deadline is recurring, a status is *this period's* report: "done" means
done for the period that ends at the next report deadline (``report_deadlines``, e.g.
20/3, 20/6, 30/11). Once that deadline has passed, :func:`reopen_past_periods` opens the
assignment again for the next period — with a progress update at the boundary, so the
history says exactly when the new period began — and the next status request comes as
usual. The roll-up counts a recurring assignment as done for a period when it was reported
done in that period (``storage.rollup_sql``). Dated tasks keep their one-off meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from sqlmodel import Session, col, select

from storage.models import Assignment, AssignmentStatus, ProgressUpdate, Task

RECURRING = "recurring"
PERIOD_CHANNEL = "period"  # ProgressUpdate.channel of the update that opens a new period


def period_end(day: date, report_deadlines: Sequence[str]) -> date | None:
    """The first report deadline on or after ``day`` ("MM-DD" strings); None without any."""
    candidates: list[date] = []
    for year in (day.year, day.year + 1):
        for month_day in report_deadlines:
            month, dom = (int(part) for part in month_day.split("-"))
            try:
                candidates.append(date(year, month, dom))
            except ValueError:  # 02-29 in a common year
                continue
    later = [deadline for deadline in candidates if deadline >= day]
    return min(later) if later else None


def next_period_start(done_at: datetime, tz: tzinfo, report_deadlines: Sequence[str]) -> datetime:
    """The local midnight after the report deadline the done report counts for."""
    day = done_at.astimezone(tz).date()
    end = period_end(day, report_deadlines)
    if end is None:  # no report calendar: one period a year
        end = date(day.year, 12, 31)
    return datetime.combine(end + timedelta(days=1), time(0), tz)


def reopen_past_periods(
    session: Session,
    now: datetime,
    tz: tzinfo,
    report_deadlines: Callable[[int], Sequence[str]],
) -> int:
    """Open again every recurring assignment reported done for a period that has ended;
    ``report_deadlines(plan_id)`` is the plan's calendar. Returns how many were opened (the
    caller commits)."""
    rows = session.exec(
        select(Assignment, Task.plan_id)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(
            col(Task.deadline_kind) == RECURRING, col(Assignment.status) == AssignmentStatus.DONE
        )
    ).all()
    opened = 0
    for assignment, plan_id in rows:
        reported = assignment.done_at or assignment.last_update_at or assignment.created_at
        boundary = next_period_start(reported, tz, report_deadlines(plan_id))
        if boundary > now:
            continue
        assignment.status, assignment.percent = AssignmentStatus.NOT_STARTED, 0
        assignment.done_at, assignment.note = None, None
        assignment.last_update_at = boundary  # silence is counted from the new period
        session.add(assignment)
        session.add(
            ProgressUpdate(
                assignment_id=assignment.id or 0,
                status=AssignmentStatus.NOT_STARTED,
                channel=PERIOD_CHANNEL,
                created_at=boundary,
            )
        )
        opened += 1
    session.flush()
    return opened
