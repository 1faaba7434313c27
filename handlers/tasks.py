"""My tasks (paged list) and one task's view with its five buttons.

The short number shown as ``#12`` is the assignment id: it never changes when the list
changes, so "12 xong" typed tomorrow still means the same task.
"""

from __future__ import annotations

from sqlmodel import Session

from handlers import payloads, state
from handlers.context import HandlerContext
from handlers.deadlines import deadline_words
from handlers.permissions import can_act, can_assign
from handlers.queries import (
    Item,
    assignee_names,
    item_deadlines,
    item_with_assignees,
    my_items,
    recent_updates,
)
from handlers.texts import (
    dimension_title,
    fit,
    shorten,
    status_mark,
    status_name,
)
from handlers.types import Button, Outbound
from kernel.dates import short_datetime
from kernel.i18n import _, current_locale
from storage.models import AssignmentStatus

PAGE_SIZE = 8
TASK_TEXT_LIMIT = 2500


def deadline_text(ctx: HandlerContext, entry: Item) -> str:
    task = entry.task
    return deadline_words(
        task.deadline_kind,
        task.due_date,
        task.deadline_raw,
        ctx.today,
        item_deadlines(ctx.session, entry, ctx.settings.report_deadlines),
    )


def item_line(ctx: HandlerContext, entry: Item, text_limit: int = 90) -> str:
    mark = status_mark(entry.assignment.status, entry.overdue(ctx.today))
    percent = entry.assignment.percent
    progress = (
        f" {percent}%"
        if entry.assignment.status == AssignmentStatus.IN_PROGRESS and percent
        else ""
    )
    return f"{mark} #{entry.id}{progress} {shorten(entry.task.text, text_limit)} — " + (
        deadline_text(ctx, entry)
    )


def page_lines(ctx: HandlerContext, entries: list[Item]) -> list[str]:
    """Lines of one page, with a heading whenever the group changes."""
    lines: list[str] = []
    heading: str | None = None
    for entry in entries:
        this = _("Overdue") if entry.overdue(ctx.today) else dimension_title(entry.task.dimension)
        if this != heading:
            lines.extend(["", f"▸ {this}"])
            heading = this
        lines.append(item_line(ctx, entry))
    return lines


def nav_row(page: int, pages: int, verb: str) -> tuple[Button, ...]:
    row = []
    if page > 0:
        row.append(Button(_("◀ Previous"), f"{verb}:{page - 1}"))
    if page + 1 < pages:
        row.append(Button(_("Next ▶"), f"{verb}:{page + 1}"))
    return tuple(row)


def view_buttons(entries: list[Item]) -> list[tuple[Button, ...]]:
    return [
        (Button(f"#{e.id} {shorten(e.task.text, 40)}", payloads.task_action(e.id, "view")),)
        for e in entries
    ]


def edit_target(ctx: HandlerContext) -> str | None:
    """Paging from a button edits the message the button was on (where the channel can)."""
    return ctx.inbound.message_id if ctx.inbound.payload else None


def my_tasks(ctx: HandlerContext, page: int = 0) -> list[Outbound]:
    assert ctx.official is not None
    entries = my_items(ctx.session, ctx.official, ctx.today)
    if not entries:
        return [Outbound(_("You have no open tasks. Well done!"))]
    pages = (len(entries) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    shown = entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    head = _("Your open tasks: %(count)d (page %(page)d/%(pages)d)") % {
        "count": len(entries),
        "page": page + 1,
        "pages": pages,
    }
    hint = _('Reply e.g. "%(id)d xong", "%(id)d 50%% đã họp dân" or tap a task.') % {
        "id": shown[0].id
    }
    text = "\n".join([head, *page_lines(ctx, shown), "", hint])
    buttons = view_buttons(shown)
    nav = nav_row(page, pages, payloads.LIST_PAGE)
    if nav:
        buttons.append(nav)
    return [Outbound(fit(ctx, text), buttons=tuple(buttons), edit_message_id=edit_target(ctx))]


def task_view_text(ctx: HandlerContext, entry: Item) -> str:
    task, assignment = entry.task, entry.assignment
    status = status_name(assignment.status)
    if assignment.status == AssignmentStatus.IN_PROGRESS and assignment.percent:
        status = f"{status} {assignment.percent}%"
    lines = [
        f"#{entry.id} · {dimension_title(task.dimension)}",
        "",
        shorten(task.text, TASK_TEXT_LIMIT),
        "",
        _("Lead: %(agencies)s") % {"agencies": task.lead_raw or "—"},
        _("In cooperation with: %(agencies)s") % {"agencies": task.coordinating_raw or "—"},
        _("Deadline: %(words)s") % {"words": deadline_text(ctx, entry)},
        _("Status: %(status)s") % {"status": status},
    ]
    if (
        assignment.note and assignment.status == AssignmentStatus.BLOCKED
    ):  # later notes are in the updates
        lines.append(_("Blocked by: %(note)s") % {"note": shorten(assignment.note, 300)})
    elif assignment.note:
        lines.append(_("Note: %(note)s") % {"note": shorten(assignment.note, 300)})
    names = assignee_names(ctx.session, entry.id)
    if names:
        lines.append(_("Assigned to: %(names)s") % {"names": ", ".join(names)})
    updates = recent_updates(ctx.session, entry.id)
    if updates:
        lines.extend(["", _("Latest updates:")])
        for update, name in updates:
            what = status_name(update.status)
            if update.percent is not None and update.status == AssignmentStatus.IN_PROGRESS:
                what = f"{what} {update.percent}%"
            note = f": {shorten(update.note, 120)}" if update.note else ""
            when = short_datetime(update.created_at, current_locale())
            lines.append(f"• {when} {name or '—'} — {what}{note}")
    return fit(ctx, "\n".join(lines))


def task_view(ctx: HandlerContext, entry: Item) -> Outbound:
    assert ctx.official is not None
    buttons = list(payloads.task_buttons(entry.id))
    if can_assign(ctx.session, ctx.official, entry.assignment):
        buttons.append((Button(_("Assign to an official"), payloads.assign(entry.id, 0)),))
    return Outbound(task_view_text(ctx, entry), buttons=tuple(buttons), assignment_id=entry.id)


def not_yours(number: int) -> Outbound:
    return Outbound(
        _("Task #%(id)d is not among the tasks you can see. Nothing was changed.") % {"id": number}
    )


def allowed_item(ctx: HandlerContext, assignment_id: int) -> Item | None:
    """The assignment if it exists and this official may act on it; for the official's own
    task that is one query (assignment, task, plan and assignees together)."""
    assert ctx.official is not None
    found = item_with_assignees(ctx.session, assignment_id, ctx.official.id)
    if found is None:
        return None
    entry, assignees = found
    if not can_act(ctx.session, ctx.official, entry.assignment, assignees):
        return None
    return entry


def open_task(ctx: HandlerContext, assignment_id: int) -> list[Outbound]:
    entry = allowed_item(ctx, assignment_id)
    if entry is None:
        return [not_yours(assignment_id)]
    focus(ctx.session, ctx, entry.id)
    return [task_view(ctx, entry)]


def focus(session: Session, ctx: HandlerContext, assignment_id: int) -> None:
    """Remember the task just opened: a bare "xong" right after applies to it."""
    state.set_state(
        session,
        ctx.inbound.channel,
        ctx.inbound.chat_id,
        state.FOCUS,
        {"assignment_id": assignment_id},
        ctx.now,
    )
