"""The commune chair: /xa (the commune's tasks, status counts, who is behind) and handing a
commune task to one or more of its officials, who are told at once."""

from __future__ import annotations

from collections import Counter

from handlers import payloads
from handlers.context import HandlerContext
from handlers.permissions import can_assign
from handlers.queries import Item, assignee_names, item, sort_items, unit_items, unit_officials
from handlers.reports import commune_rank_line
from handlers.tasks import PAGE_SIZE, edit_target, item_line, nav_row, not_yours, view_buttons
from handlers.texts import STATUS_MARKS, fit, shorten, status_name
from handlers.types import Button, Outbound
from kernel.i18n import _, ngettext, use_locale
from storage.models import AssignmentStatus, Official, Role, Unit
from storage.progress import assign_officials


def _rank_line(ctx: HandlerContext, unit_id: int) -> str | None:
    return commune_rank_line(ctx, unit_id)


def _behind(ctx: HandlerContext, entries: list[Item]) -> list[str]:
    """Officials with overdue or blocked tasks, with how many."""
    late: Counter[str] = Counter()
    unassigned = 0
    for entry in entries:
        if entry.assignment.status == AssignmentStatus.DONE:
            continue
        late_or_blocked = (
            entry.overdue(ctx.today) or entry.assignment.status == AssignmentStatus.BLOCKED
        )
        names = assignee_names(ctx.session, entry.id)
        if not names:
            unassigned += 1
        elif late_or_blocked:
            late.update(names)
    lines = [
        _("%(name)s: %(count)d overdue or blocked") % {"name": name, "count": count}
        for name, count in late.most_common()
    ]
    if unassigned:
        lines.append(_("Not yet assigned to anyone: %(count)d") % {"count": unassigned})
    return lines


def commune_view(ctx: HandlerContext, page: int = 0) -> list[Outbound]:
    assert ctx.official is not None
    if ctx.official.role != Role.CHAIR:
        return [Outbound(_("This command is for the commune chair."))]
    unit = ctx.session.get(Unit, ctx.official.unit_id)
    assert unit is not None
    entries = sort_items([entry for entry, _u in unit_items(ctx.session, unit)], ctx.today)
    if not entries:
        return [Outbound(_("%(unit)s has no tasks yet.") % {"unit": unit.name})]
    counts = Counter(entry.assignment.status for entry in entries)
    overdue = sum(1 for entry in entries if entry.overdue(ctx.today))
    lines = [
        ngettext("%(unit)s: %(total)d task", "%(unit)s: %(total)d tasks", len(entries))
        % {"unit": unit.name, "total": len(entries)},
        "  ".join(f"{STATUS_MARKS[s]} {status_name(s)}: {counts[s]}" for s in AssignmentStatus),
        _("Overdue: %(count)d") % {"count": overdue},
    ]
    assert unit.id is not None
    rank = _rank_line(ctx, unit.id)
    if rank:
        lines.append(rank)
    behind = _behind(ctx, entries)
    if behind:
        lines.extend(["", _("Who is behind:"), *(f"• {line}" for line in behind)])
    open_entries = [entry for entry in entries if entry.assignment.status != AssignmentStatus.DONE]
    pages = max(1, (len(open_entries) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = open_entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    if shown:
        lines.extend(
            ["", _("Open tasks (page %(page)d/%(pages)d):") % {"page": page + 1, "pages": pages}]
        )
        for entry in shown:
            names = ", ".join(assignee_names(ctx.session, entry.id)) or _("unassigned")
            lines.append(f"{item_line(ctx, entry, 70)} [{names}]")
    buttons = view_buttons(shown)
    nav = nav_row(page, pages, payloads.COMMUNE_PAGE)
    if nav:
        buttons.append(nav)
    return [
        Outbound(
            fit(ctx, "\n".join(lines)), buttons=tuple(buttons), edit_message_id=edit_target(ctx)
        )
    ]


def _assignable(ctx: HandlerContext, assignment_id: int) -> Item | None:
    assert ctx.official is not None
    entry = item(ctx.session, assignment_id)
    if entry is None or not can_assign(ctx.session, ctx.official, entry.assignment):
        return None
    return entry


def _candidates(ctx: HandlerContext, entry: Item) -> list[Official]:
    return [
        o for o in unit_officials(ctx.session, entry.assignment.unit_id) if o.role != Role.CHAIR
    ]


def assign_menu(ctx: HandlerContext, assignment_id: int) -> list[Outbound]:
    """The commune's officials, numbered, with one button each."""
    entry = _assignable(ctx, assignment_id)
    if entry is None:
        return [
            Outbound(
                _("Only the chair of the task's commune can assign task #%(id)d.")
                % {"id": assignment_id}
            )
        ]
    officials = _candidates(ctx, entry)
    if not officials:
        return [Outbound(_("Your commune has no officials registered yet."))]
    lines = [
        _("Assign #%(id)d (%(task)s) to:") % {"id": entry.id, "task": shorten(entry.task.text, 80)}
    ]
    lines.extend(f"{n}. {o.name}" for n, o in enumerate(officials, 1))
    lines.append(_('Tap a name, or type "/giao %(id)d 1 2" for several.') % {"id": entry.id})
    buttons = tuple((Button(o.name, payloads.assign(entry.id, o.id or 0)),) for o in officials)
    return [Outbound("\n".join(lines), buttons=buttons)]


def assign(ctx: HandlerContext, assignment_id: int, official_ids: list[int]) -> list[Outbound]:
    """Add officials to the assignment and tell each of them."""
    assert ctx.official is not None
    entry = _assignable(ctx, assignment_id)
    if entry is None:
        return [
            Outbound(
                _("Only the chair of the task's commune can assign task #%(id)d.")
                % {"id": assignment_id}
            )
        ]
    allowed = {o.id: o for o in _candidates(ctx, entry)}
    chosen = [allowed[oid] for oid in dict.fromkeys(official_ids) if oid in allowed]
    if not chosen or len(chosen) != len(set(official_ids)):
        return [
            Outbound(
                _("Choose officials of the task's commune from the list. Nothing was changed.")
            )
        ]
    added = set(
        assign_officials(
            ctx.session, entry.id, [o.id or 0 for o in chosen], ctx.official.id, ctx.now
        )
    )
    out = [_notice(ctx, entry, official) for official in chosen if official.id in added]
    names = ", ".join(o.name for o in chosen)
    out.insert(
        0,
        Outbound(
            _("#%(id)d assigned to %(names)s. They have been notified.")
            % {"id": entry.id, "names": names}
        ),
    )
    return out


def _notice(ctx: HandlerContext, entry: Item, official: Official) -> Outbound:
    """The message the official gets, in their own language."""
    assert ctx.official is not None
    with use_locale(official.locale):
        text = _("%(chair)s assigned you task #%(id)d: %(task)s") % {
            "chair": ctx.official.name,
            "id": entry.id,
            "task": shorten(entry.task.text, 600),
        }
        return Outbound(
            text,
            buttons=payloads.task_buttons(entry.id),
            official_id=official.id,
            kind="notice",
            assignment_id=entry.id,
        )


def assign_command(ctx: HandlerContext, args: str) -> list[Outbound]:
    """/giao 12 → the pick list; /giao 12 1 3 → numbers from that list."""
    parts = args.split()
    number = parts[0].lstrip("#") if parts else ""
    if not (number.isascii() and number.isdigit()):
        return [Outbound(_("Usage: /giao <task number> [official numbers], e.g. /giao 12 1 2"))]
    if not payloads.is_number(number):  # more digits than any task id can have
        return [not_yours(int(number))]
    assignment_id = int(number)
    if len(parts) == 1:
        return assign_menu(ctx, assignment_id)
    entry = _assignable(ctx, assignment_id)
    if entry is None:
        return [not_yours(assignment_id)]
    officials = _candidates(ctx, entry)
    picks: list[int] = []
    for part in parts[1:]:
        if not payloads.is_number(part) or not 1 <= int(part) <= len(officials):
            return [
                Outbound(
                    _("There is no official number %(n)s in the list. Nothing was changed.")
                    % {"n": part}
                )
            ]
        picks.append(officials[int(part) - 1].id or 0)
    return assign(ctx, assignment_id, picks)
