"""What reminders and escalations say, in the current locale (wrap in ``use_locale``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.scheduler.due import BEFORE_DUE, DUE_DAY, OVERDUE, REPORT, SILENCE
from handlers.deadlines import deadline_words
from kernel.dates import long_date
from kernel.i18n import N_, _, ngettext
from storage.models import Task

TASK_SHORT_CHARS = 140
KIND_WORDS = {
    BEFORE_DUE: N_("due soon"),
    DUE_DAY: N_("due today"),
    OVERDUE: N_("overdue reminder"),
    REPORT: N_("status request"),
    SILENCE: N_("no-update nudge"),
}


def short_text(text: str, limit: int = TASK_SHORT_CHARS) -> str:
    """The start of a task's text, cut at a word."""
    text = " ".join(text.split())
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(" ,;:.") + "…"
    return text


def short_task(task: Task, limit: int = TASK_SHORT_CHARS, number: int | None = None) -> str:
    """'#12 Niêm yết công khai …': the task number an official types (the assignment id,
    the same in the chat, every reminder, digest and file) and the start of the text.
    Without an assignment (a plan-wide line): the plan's own STT, '12. Niêm yết …'."""
    if number is not None:
        return f"#{number} {short_text(task.text, limit)}"
    stt = task.stt.strip().rstrip(".") or str(task.order)
    return f"{stt}. {short_text(task.text, limit)}"


def _headline(kind: str, nominal: date, silent_for: int) -> str:
    if kind == BEFORE_DUE:
        return _("Reminder: a task is due soon")
    if kind == DUE_DAY:
        return _("Reminder: a task is due today")
    if kind == OVERDUE:
        return _("Overdue task: please finish it or report what blocks it")
    if kind == REPORT:
        return _("Status request for the report due %(date)s") % {"date": long_date(nominal)}
    if kind == SILENCE:
        return ngettext(
            "No update on this task for %(n)d day",
            "No update on this task for %(n)d days",
            silent_for,
        ) % {"n": silent_for}
    raise ValueError(f"unknown reminder kind {kind!r}")


def reminder_text(
    kind: str,
    task: Task,
    nominal: date,
    today: date,
    report_deadlines: Sequence[str],
    silent_for: int = 0,
    number: int | None = None,
    also: Sequence[tuple[str, date]] = (),
) -> str:
    """Headline, the task (short), the deadline in words and what to do."""
    words = deadline_words(
        task.deadline_kind, task.due_date, task.deadline_raw, today, report_deadlines
    )
    ask = (
        _("Please send this period's update with the buttons below.")
        if kind == REPORT
        else _("Tap a button below to update the task.")
    )
    lines = [
        _headline(kind, nominal, silent_for),
        short_task(task, number=number),
        _("Deadline: %(words)s") % {"words": words},
    ]
    if also:  # after a down-time: what else fell due, so nothing is silently dropped
        missed = ", ".join(
            f"{_(KIND_WORDS[other])} ({long_date(day)})" for other, day in sorted(also, key=_day)
        )
        lines.append(_("Also due for this task: %(missed)s.") % {"missed": missed})
    lines.append(ask)
    return "\n".join(lines)


def _day(pair: tuple[str, date]) -> date:
    return pair[1]


def escalation_text(
    lines: Sequence[tuple[str, Task, int, int]], today: date, to_coordinator: bool
) -> str:
    """A list of overdue assignments: (unit name, task, days overdue, assignment id)."""
    head = (
        _("Overdue tasks in units you coordinate (%(n)d):")
        if to_coordinator
        else _("Overdue tasks in your unit (%(n)d):")
    ) % {"n": len(lines)}
    body = [
        "- "
        + _("%(unit)s: %(task)s — %(late)s")
        % {
            "unit": unit_name,
            "task": short_task(task, 90, number),
            "late": ngettext("%(n)d day overdue", "%(n)d days overdue", days) % {"n": days},
        }
        for unit_name, task, days, number in lines
    ]
    return "\n".join([head, *body, _("Date: %(date)s") % {"date": long_date(today)}])
