"""The task number an official types, and the answers that keep a reply on the right task.

There is one task number: ``#12`` is the assignment id, shown the same way in the chat, in
every reminder, escalation and digest and in the report files. A number that is not among
the tasks the sender may report on is refused with their open tasks listed; a status for a
task already marked done is not applied until the official confirms reopening it; every
confirmation names the task in words, so a wrong number is noticed at once.
"""

from __future__ import annotations

from handlers import state
from handlers.context import HandlerContext
from handlers.queries import Item, item_deadlines, my_items
from handlers.texts import shorten, status_name
from handlers.types import Outbound
from kernel.dates import long_date
from kernel.i18n import _
from kernel.textnorm import fold
from storage.models import AssignmentStatus
from storage.recurring import period_end

CONFIRM_REOPEN = "confirm_reopen"  # a status for a done task, waiting for "có" / "không"
LIST_LIMIT = 8
NAME_CHARS = 60
_YES = {"co", "yes", "y", "ok", "dong y", "mo lai", "reopen", "u", "uh", "vang"}
_NO = {"khong", "no", "n", "thoi", "huy", "cancel", "k", "ko"}


def task_label(entry: Item, limit: int = NAME_CHARS) -> str:
    """'#12 Niêm yết công khai…': the number and the start of the task's text."""
    return f"#{entry.id} {shorten(entry.task.text, limit)}"


def refusal(ctx: HandlerContext, number: int) -> Outbound:
    """The number is not one of the sender's tasks: nothing changes; here are theirs."""
    assert ctx.official is not None
    entries = my_items(ctx.session, ctx.official, ctx.today)
    head = _("Task #%(id)d is not among your tasks. Nothing was changed.") % {"id": number}
    if not entries:
        return Outbound(head + "\n" + _("You have no open tasks to report on."))
    lines = [head, _("Your open tasks:")]
    lines += [task_label(entry) for entry in entries[:LIST_LIMIT]]
    if len(entries) > LIST_LIMIT:
        lines.append(_("… and %(n)d more: send /nhiemvu") % {"n": len(entries) - LIST_LIMIT})
    return Outbound("\n".join(lines))


def needs_reopen(entry: Item, status: str | None) -> bool:
    """A status other than done, for a task already marked done, would reopen it."""
    return entry.assignment.status == AssignmentStatus.DONE and status not in (
        None,
        AssignmentStatus.DONE,
    )


def ask_reopen(
    ctx: HandlerContext, entry: Item, status: str, percent: int | None, note: str | None
) -> Outbound:
    """Keep the reply and ask before a done task goes back to open."""
    data = {"assignment_id": entry.id, "status": status, "percent": percent, "note": note}
    state.set_state(
        ctx.session, ctx.inbound.channel, ctx.inbound.chat_id, CONFIRM_REOPEN, data, ctx.now
    )
    what = status_name(status)
    if status == AssignmentStatus.IN_PROGRESS and percent is not None:
        what = f"{what} {percent}%"
    return Outbound(
        _(
            '%(task)s is already marked done. Reopen it as "%(status)s"? '
            'Reply "có" to reopen, or "không" to keep it done.'
        )
        % {"task": task_label(entry), "status": what},
        assignment_id=entry.id,
    )


def reopen_answer(text: str) -> bool | None:
    """True for yes, False for no, None for anything else."""
    words = " ".join(fold(text).strip(" .!?").split())
    if words in _YES:
        return True
    if words in _NO:
        return False
    return None


def period_words(ctx: HandlerContext, entry: Item) -> str:
    """For a recurring task: which report the status counts for, and that it reopens."""
    deadlines = item_deadlines(ctx.session, entry, ctx.settings.report_deadlines)
    end = period_end(ctx.today, deadlines)
    if end is None:
        return _("Recurring task: this is your report for this period.")
    return _(
        "Recurring task: this is your report for the period ending %(date)s; "
        "the task opens again for the next period."
    ) % {"date": long_date(end)}
