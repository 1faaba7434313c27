"""The weekly digest of a unit's subtree: a chair's commune, a coordinator's province or
district. Counts and blocked items come from the roll-up (``storage.rollup``); the lists of
what is done, overdue, silent, due soon and undeliverable are read here, and who cannot be
reached on any channel from ``storage.reachability``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from bot.reports.text import percent
from bot.scheduler.deliver import officials_with_role
from bot.scheduler.split import split_text
from bot.scheduler.texts import short_task, short_text
from kernel.dates import long_date, today_local
from kernel.i18n import N_, _, ngettext
from storage.models import (
    Assignment,
    AssignmentOfficial,
    AssignmentRole,
    AssignmentStatus,
    Official,
    OutboxMessage,
    OutboxStatus,
    Role,
    Task,
    Unit,
)
from storage.periods import range_period
from storage.plan_admin import live_plan
from storage.reachability import unreachable_everywhere
from storage.rollup import BlockedItem, Counts, rollup

WEEK = timedelta(days=7)
DUE_SOON_DAYS = 14
KIND_WORDS = {
    "reminder": N_("reminder"),
    "escalation": N_("escalation"),
    "digest": N_("digest"),
    "reply": N_("reply"),
    "notice": N_("notice"),
}
MAX_ITEMS = 25  # per section; the rest is counted, the roll-up files have everything


@dataclass(frozen=True, slots=True)
class Line:
    unit: str
    task: Task
    day: date | None = None  # due date, or the day it was done
    number: int | None = None  # the assignment id: the task number the official types


@dataclass(frozen=True, slots=True)
class DigestData:
    unit: Unit
    today: date
    totals: Counts  # lead assignments only, like every list below
    tasks: int  # distinct tasks behind ``totals``
    done: list[Line]
    overdue: list[Line]
    blocked: list[BlockedItem]
    silent: list[tuple[str, str, int]]  # (who, unit, assignments without update)
    due_soon: list[Line]
    undeliverable: list[tuple[str, str, str]]  # (official, kind, status)
    # (official, unit, since): every linked account refused by its platform
    unreachable: tuple[tuple[str, str, date], ...] = ()
    quotas: tuple[tuple[str, int, int], ...] = ()  # (channel, sent this month, monthly quota)
    seats: tuple[tuple[str, int, int], ...] = ()  # (channel, linked users, user limit)


def _in_subtree(unit: Unit) -> ColumnElement[bool]:
    return col(Unit.path).like(f"{unit.path}%")


def _lines(session: Session, unit: Unit, *conditions: object, day: str) -> list[Line]:
    query = (
        select(Assignment, Task, Unit)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .where(_in_subtree(unit), live_plan(), *conditions)  # type: ignore[arg-type]
        .order_by(col(Unit.path), col(Task.order), col(Assignment.id))
    )
    out = []
    for assignment, task, owner in session.exec(query):
        when = assignment.done_at.date() if day == "done" and assignment.done_at else task.due_date
        out.append(Line(owner.name, task, when, assignment.id))
    return out


def _silent(session: Session, unit: Unit, cutoff: datetime) -> list[tuple[str, str, int]]:
    """Who has open lead assignments with no update since ``cutoff``: the assigned officials,
    else the unit itself (its chairs answer for it)."""
    last = func.coalesce(col(Assignment.last_update_at), col(Assignment.created_at))
    rows = session.exec(
        select(Assignment.id, Unit.name, Unit.id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(live_plan())
        .where(
            _in_subtree(unit),
            Assignment.status != AssignmentStatus.DONE,
            Assignment.role == AssignmentRole.LEAD,
        )
        .where(last < cutoff)
    ).all()
    if not rows:
        return []
    names = {assignment_id or 0: unit_name for assignment_id, unit_name, _uid in rows}
    unit_of = {assignment_id or 0: unit_id or 0 for assignment_id, _name, unit_id in rows}
    who: dict[int, list[str]] = {}
    for assignment_id, official in session.exec(
        select(AssignmentOfficial.assignment_id, Official)
        .join(Official, col(Official.id) == AssignmentOfficial.official_id)
        .where(col(AssignmentOfficial.assignment_id).in_(list(names)))
    ):
        who.setdefault(assignment_id, []).append(official.name)
    # Nobody assigned: the unit's chairs answer for it, and are named ("" if it has none).
    chairs = officials_with_role(session, set(unit_of.values()), Role.CHAIR)
    counts: dict[tuple[str, str], int] = {}
    for assignment_id, unit_name in names.items():
        chair_names = [o.name for o in chairs.get(unit_of[assignment_id], [])]
        for person in who.get(assignment_id) or chair_names or [""]:
            counts[(person, unit_name)] = counts.get((person, unit_name), 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][0]))
    return [(person, unit_name, n) for (person, unit_name), n in ordered]


def _undeliverable(session: Session, unit: Unit, since: datetime) -> list[tuple[str, str, str]]:
    rows = session.exec(
        select(Official.name, OutboxMessage.kind, OutboxMessage.status)
        .join(Official, col(Official.id) == OutboxMessage.official_id)
        .join(Unit, col(Unit.id) == Official.unit_id)
        .where(
            _in_subtree(unit),
            col(OutboxMessage.status).in_((OutboxStatus.FAILED, OutboxStatus.UNREACHABLE)),
        )
        .where(col(OutboxMessage.created_at) >= since)
        .order_by(col(OutboxMessage.id))
    ).all()
    return [(name, kind, status) for name, kind, status in rows]


def collect(session: Session, unit: Unit, now: datetime, silence_days: int) -> DigestData:
    """Everything the digest of ``unit``'s subtree shows, as seen at ``now``."""
    today = today_local(now)
    week_ago = now - WEEK
    summary = rollup(
        session,
        unit,
        range_period(today - timedelta(days=6), today),
        now,
        silence_days=silence_days,
        roles=(AssignmentRole.LEAD,),  # the lists below count lead assignments: so does the header
        compare=False,
    )
    lead_dated_open = (
        Assignment.role == AssignmentRole.LEAD,
        Assignment.status != AssignmentStatus.DONE,
        Task.deadline_kind == "date",
    )
    return DigestData(
        unit=unit,
        today=today,
        totals=summary.totals,
        tasks=sum(1 for row in summary.tasks if row.counts.total),
        done=_lines(
            session,
            unit,
            Assignment.role == AssignmentRole.LEAD,  # as the header and the other lists
            Assignment.status == AssignmentStatus.DONE,
            col(Assignment.done_at) >= week_ago,
            day="done",
        ),
        overdue=_lines(session, unit, *lead_dated_open, col(Task.due_date) < today, day="due"),
        blocked=list(summary.blocked),
        silent=_silent(session, unit, now - timedelta(days=silence_days)),
        due_soon=_lines(
            session,
            unit,
            *lead_dated_open,
            col(Task.due_date) >= today,
            col(Task.due_date) <= today + timedelta(days=DUE_SOON_DAYS),
            day="due",
        ),
        undeliverable=_undeliverable(session, unit, week_ago),
        unreachable=tuple(
            (row.name, row.unit_name, today_local(row.since))
            for row in unreachable_everywhere(session, unit.path)
        ),
    )


def _section(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    shown = items[:MAX_ITEMS]
    more = len(items) - len(shown)
    tail = [_("… and %(n)d more (see the report files)") % {"n": more}] if more else []
    return ["", f"{title} ({len(items)})", *shown, *tail]


def _late(days: int) -> str:
    return ngettext("%(n)d day overdue", "%(n)d days overdue", days) % {"n": days}


def _header(data: DigestData) -> list[str]:
    """Counts of lead assignments, the same things the lists below count, and says so."""
    totals = data.totals
    scope = ngettext("%(n)d task", "%(n)d tasks", data.tasks) % {"n": data.tasks}
    scope += ", " + ngettext("%(n)d lead assignment", "%(n)d lead assignments", totals.total) % {
        "n": totals.total
    }
    return [
        _("Weekly digest: %(unit)s, %(date)s")
        % {"unit": data.unit.name, "date": long_date(data.today)},
        scope,
        _(
            "%(done)d of %(total)d lead assignments done (%(percent)s); %(overdue)d overdue, "
            "%(blocked)d blocked, %(silent)d without update."
        )
        % {
            "done": totals.done,
            "total": totals.total,
            "percent": percent(totals.completion),
            "overdue": totals.overdue,
            "blocked": totals.blocked,
            "silent": totals.silent,
        },
    ]


def _who(who: str, unit: str, n: int) -> str:
    tasks = ngettext("%(n)d task", "%(n)d tasks", n) % {"n": n}
    if who:
        return _("%(who)s (%(unit)s): %(tasks)s") % {"who": who, "unit": unit, "tasks": tasks}
    return _("%(unit)s (no chair registered): %(tasks)s") % {"unit": unit, "tasks": tasks}


def render(data: DigestData) -> list[str]:
    """The digest in the current locale, as messages no channel must split further than
    its own declared limit (``bot.scheduler.split``)."""
    head = _header(data)
    lines = list(head)
    lines += _section(
        _("Done this week"),
        [f"- {ln.unit}: {short_task(ln.task, 90, ln.number)}" for ln in data.done],
    )
    lines += _section(
        _("Overdue"),
        [
            f"- {ln.unit}: {short_task(ln.task, 90, ln.number)} — "
            + _late((data.today - ln.day).days)
            for ln in data.overdue
            if ln.day is not None
        ],
    )
    lines += _section(
        _("Blocked"),
        [
            f"- {item.unit_name}: #{item.assignment_id} {short_text(item.task_text, 90)} — "
            + (item.note or _("no reason given"))
            for item in data.blocked
        ],
    )
    lines += _section(
        _("No update for a long time"),
        ["- " + _who(who, unit, n) for who, unit, n in data.silent],
    )
    lines += _section(
        _("Due in the next two weeks"),
        [
            f"- {ln.unit}: {short_task(ln.task, 90, ln.number)} — {long_date(ln.day)}"
            for ln in data.due_soon
            if ln.day is not None
        ],
    )
    lines += _section(
        _("Messages the bot could not deliver"),
        [
            "- "
            + _("%(who)s: %(kind)s, %(status)s")
            % {"who": who, "kind": _(KIND_WORDS.get(kind, kind)), "status": _status_word(status)}
            for who, kind, status in data.undeliverable
        ],
    )
    lines += _section(
        _("Cannot be reached on any channel (ask them to unblock the bot or write to it)"),
        [
            "- "
            + _("%(who)s (%(unit)s): since %(date)s")
            % {"who": who, "unit": unit, "date": long_date(since)}
            for who, unit, since in data.unreachable
        ],
    )
    lines += _section(
        _("Monthly message quota"),
        [
            "- "
            + _("%(channel)s: %(sent)d of %(quota)d messages this month (%(pct)s)")
            % {"channel": channel, "sent": sent, "quota": quota, "pct": percent(100 * sent / quota)}
            for channel, sent, quota in data.quotas
        ],
    )
    lines += _section(
        _("Users per Zalo bot"),
        [
            "- "
            + _("%(channel)s: %(users)d of %(limit)d users (%(pct)s)")
            % {"channel": ch, "users": n, "limit": limit, "pct": percent(100 * n / limit)}
            for ch, n, limit in data.seats
        ],
    )
    if len(lines) == len(head):
        lines += ["", _("Nothing to report this week.")]
    return split_text("\n".join(lines))


def _status_word(status: str) -> str:
    if status == OutboxStatus.UNREACHABLE:
        return _("the official blocked the bot")
    return _("failed after several attempts")
