"""Progress: the task buttons and the typed quick replies; the one place that asks storage
to write a ``ProgressUpdate`` (``storage.progress.record_progress``).

Which task a reply without a number is about, in order: the bot message it replies to
(a reminder carries its assignment), the task just opened, the official's only open task.
Anything else gets "which task?" with one button per open task — never a guess.
"""

from __future__ import annotations

from sqlmodel import col, select

from handlers import payloads, quickreply, state, tasknumbers
from handlers.context import HandlerContext
from handlers.queries import Item, my_items
from handlers.quickreply import Ambiguous, QuickReply
from handlers.tasks import allowed_item, not_yours, open_task
from handlers.texts import shorten, status_mark, status_name
from handlers.types import Button, Outbound
from kernel.i18n import _
from storage.conversation import ChatState
from storage.models import AssignmentStatus, OutboxMessage
from storage.progress import Source, record_progress

PICK_LIMIT = 8


def source(ctx: HandlerContext) -> Source:
    """Who changes what, from which message: the official writing to us now."""
    assert ctx.official is not None
    return Source(ctx.official.id, ctx.inbound.channel, ctx.inbound.message_id, ctx.now)


def record(
    ctx: HandlerContext,
    entry: Item,
    status: str | None,
    percent: int | None,
    note: str | None,
    *,
    confirmed: bool = False,
) -> Outbound:
    """Apply a change to the assignment, log it, and confirm it in one line. A change that
    would reopen a done task is only asked about until ``confirmed``."""
    if not confirmed and status is not None and tasknumbers.needs_reopen(entry, status):
        return tasknumbers.ask_reopen(ctx, entry, status, percent, note)
    record_progress(ctx.session, entry.assignment, status, percent, note, source(ctx))
    text = confirmation(entry, status, note, percent)
    if entry.task.deadline_kind == "recurring" and status is not None:
        text += "\n" + tasknumbers.period_words(ctx, entry)
    return Outbound(text, assignment_id=entry.id)


def confirmation(
    entry: Item, status: str | None, note: str | None, percent: int | None = None
) -> str:
    """'🔄 #12 Niêm yết công khai…: Đang thực hiện 50%. Đã ghi nhận.' — the task named in
    words; a percent only when one was given (now or before), never an invented 0 %."""
    assignment = entry.assignment
    what = status_name(assignment.status)
    if assignment.status == AssignmentStatus.IN_PROGRESS and (
        percent is not None or assignment.percent
    ):
        what = f"{what} {assignment.percent}%"
    values = {
        "mark": status_mark(assignment.status),
        "task": tasknumbers.task_label(entry),
        "status": what,
        "note": shorten(note or "", 200),
    }
    if status is None:
        return _("📝 %(task)s: note saved (%(status)s).") % values
    if note:
        return _("%(mark)s %(task)s: %(status)s — %(note)s. Recorded.") % values
    return _("%(mark)s %(task)s: %(status)s. Recorded.") % values


def _await(ctx: HandlerContext, kind: str, entry: Item) -> None:
    state.set_state(
        ctx.session,
        ctx.inbound.channel,
        ctx.inbound.chat_id,
        kind,
        {"assignment_id": entry.id},
        ctx.now,
    )


def button_action(ctx: HandlerContext, assignment_id: int, action: str) -> list[Outbound]:
    """One of the five task buttons (or "view")."""
    if action == payloads.VIEW:
        return open_task(ctx, assignment_id)
    entry = allowed_item(ctx, assignment_id)
    if entry is None:
        return [not_yours(assignment_id)]
    number = {"id": entry.id}
    if action == payloads.DONE:
        state.clear_state(ctx.session, ctx.inbound.channel, ctx.inbound.chat_id)
        return [record(ctx, entry, AssignmentStatus.DONE, 100, None)]
    if action == payloads.PROGRESS:
        _await(ctx, state.AWAIT_PROGRESS, entry)
        text = _('#%(id)d: how far along is it? Reply e.g. "50%%" or "50%% đã họp dân".')
    elif action == payloads.BLOCKED:
        _await(ctx, state.AWAIT_BLOCKED, entry)
        text = _("#%(id)d: what is blocking it? Reply in a few words.")
    elif action == payloads.NOTE:
        _await(ctx, state.AWAIT_NOTE, entry)
        text = _("#%(id)d: type your note.")
    else:
        _await(ctx, state.AWAIT_EVIDENCE, entry)
        text = _("#%(id)d: send a photo or a document now.")
    return [Outbound(text % number, assignment_id=entry.id)]


def _reply_target(ctx: HandlerContext) -> int | None:
    """The assignment of the bot message this message replies to (e.g. a reminder)."""
    if not ctx.inbound.reply_to_message_id:
        return None
    found = ctx.session.exec(
        select(OutboxMessage.assignment_id)
        .where(OutboxMessage.channel == ctx.inbound.channel)
        .where(OutboxMessage.chat_id == ctx.inbound.chat_id)
        .where(OutboxMessage.external_message_id == ctx.inbound.reply_to_message_id)
        .order_by(col(OutboxMessage.id).desc())
    ).first()
    return found


def implied_target(ctx: HandlerContext, current: ChatState | None) -> int | None:
    """The task a message without a number is about, if that is certain."""
    replied = _reply_target(ctx)
    if replied is not None:
        return replied
    if current is not None and current.kind in state.TASK_STATES:
        return int(current.data["assignment_id"])
    return None


def ask_which(ctx: HandlerContext, reply: QuickReply) -> list[Outbound]:
    """Keep the reply and ask which task it is for."""
    assert ctx.official is not None
    entries = my_items(ctx.session, ctx.official, ctx.today)
    if not entries:
        return [Outbound(_("You have no open tasks to report on."))]
    if len(entries) == 1:
        return [record(ctx, entries[0], reply.status, reply.percent, reply.note)]
    data = {"status": reply.status, "percent": reply.percent, "note": reply.note}
    state.set_state(
        ctx.session, ctx.inbound.channel, ctx.inbound.chat_id, state.PENDING_REPLY, data, ctx.now
    )
    buttons = tuple(
        (Button(f"#{e.id} {shorten(e.task.text, 40)}", payloads.pick(e.id)),)
        for e in entries[:PICK_LIMIT]
    )
    return [
        Outbound(
            _("Which task is this for? Tap it, or type its number (e.g. %(id)d).")
            % {"id": entries[0].id},
            buttons=buttons,
        )
    ]


def apply_pending(ctx: HandlerContext, assignment_id: int) -> list[Outbound]:
    """The official picked the task for the quick reply waiting in the state."""
    current = state.get_state(ctx.session, ctx.inbound.channel, ctx.inbound.chat_id, ctx.now)
    if current is None or current.kind != state.PENDING_REPLY:
        return open_task(ctx, assignment_id)
    entry = allowed_item(ctx, assignment_id)
    if entry is None:
        return [not_yours(assignment_id)]
    state.clear_state(ctx.session, ctx.inbound.channel, ctx.inbound.chat_id)
    data = current.data
    return [record(ctx, entry, data.get("status"), data.get("percent"), data.get("note"))]


def ambiguous(result: Ambiguous) -> Outbound:
    if result.reason == "done_with_percent":
        text = _('Is the task done, or still in progress? Reply "xong", or a percent like "50%%".')
    elif result.reason == "negated":
        text = _('Not done yet? Tell me how far along it is, e.g. "50%%", or "vướng: reason".')
    elif result.reason == "percent_over_100":
        text = _("A percent must be between 0 and 100. How far along is it?")
    elif result.reason == "in_progress_at_100":
        text = _('100%% means done: reply "xong" if it is finished, or give a lower percent.')
    else:
        text = _('Done, or blocked? Reply "xong", or "vướng: reason" — not both.')
    return Outbound(text % {})  # the mapping turns '%%' into '%'


def apply_quick(
    ctx: HandlerContext, reply: QuickReply, current: ChatState | None
) -> list[Outbound]:
    """A parsed quick reply (not ambiguous)."""
    target = reply.task_number
    if target is None:
        target = implied_target(ctx, current)
    if target is None and reply.status is None and reply.note is None:
        return []  # nothing to do (cannot happen: a bare number always has a target)
    if reply.status is None and reply.note is None:  # just "12"
        assert target is not None
        if allowed_item(ctx, target) is None:
            return [tasknumbers.refusal(ctx, target)]
        if current is not None and current.kind == state.PENDING_REPLY:
            return apply_pending(ctx, target)
        return open_task(ctx, target)
    if target is None:
        return ask_which(ctx, reply)
    entry = allowed_item(ctx, target)
    if entry is None:
        return [tasknumbers.refusal(ctx, target)]
    if reply.status == AssignmentStatus.BLOCKED and not reply.note:
        _await(ctx, state.AWAIT_BLOCKED, entry)
        return [Outbound(_("#%(id)d: what is blocking it? Reply in a few words.") % {"id": target})]
    if current is None or current.kind != state.AWAIT_EVIDENCE:
        # The task stays in focus: a follow-up "ghi chú: ..." or "xong" is about it too.
        _await(ctx, state.FOCUS, entry)
    return [record(ctx, entry, reply.status, reply.percent, reply.note)]


def answer_awaited(ctx: HandlerContext, current: ChatState, text: str) -> list[Outbound] | None:
    """The text the state was waiting for; None if the state does not take text."""
    if current.kind == tasknumbers.CONFIRM_REOPEN:
        return confirm_reopen(ctx, current, text)
    if current.kind not in (state.AWAIT_PROGRESS, state.AWAIT_BLOCKED, state.AWAIT_NOTE):
        return None
    assignment_id = int(current.data["assignment_id"])
    entry = allowed_item(ctx, assignment_id)
    state.clear_state(ctx.session, ctx.inbound.channel, ctx.inbound.chat_id)
    if entry is None:
        return [not_yours(assignment_id)]
    if current.kind == state.AWAIT_BLOCKED:
        return [record(ctx, entry, AssignmentStatus.BLOCKED, None, text)]
    if current.kind == state.AWAIT_NOTE:
        return [record(ctx, entry, None, None, text)]
    parsed = quickreply.parse_quick_reply(text)
    if isinstance(parsed, Ambiguous):
        _await(ctx, state.AWAIT_PROGRESS, entry)
        return [ambiguous(parsed)]
    if parsed is not None and parsed.task_number is None and parsed.status is not None:
        return [record(ctx, entry, parsed.status, parsed.percent, parsed.note)]
    return [
        record(ctx, entry, AssignmentStatus.IN_PROGRESS, None, text)
    ]  # words only: in progress + note


def confirm_reopen(ctx: HandlerContext, current: ChatState, text: str) -> list[Outbound] | None:
    """ "có" applies the status that was waiting; "không" keeps the task done; anything else
    drops the question and is read as a new message (None)."""
    answer = tasknumbers.reopen_answer(text)
    state.clear_state(ctx.session, ctx.inbound.channel, ctx.inbound.chat_id)
    if answer is None:
        return None
    entry = allowed_item(ctx, int(current.data["assignment_id"]))
    if entry is None:
        return [not_yours(int(current.data["assignment_id"]))]
    if not answer:
        return [
            Outbound(
                _("%(task)s stays done. Nothing was changed.")
                % {"task": tasknumbers.task_label(entry)}
            )
        ]
    data = current.data
    return [
        record(
            ctx, entry, data.get("status"), data.get("percent"), data.get("note"), confirmed=True
        )
    ]
