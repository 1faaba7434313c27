"""Evidence: a photo or document stored against a task (the channel's file id, not the file).

The task is, in order: a number in the caption ("12" or "#12 biên bản họp"), the task whose
"Gửi minh chứng" button was tapped (the state stays for further photos), the reminder the
photo replies to, the task just opened. Otherwise the bot asks and stores nothing.
"""

from __future__ import annotations

import re

from handlers import state
from handlers.context import HandlerContext
from handlers.progress import implied_target, source
from handlers.tasks import allowed_item, not_yours
from handlers.types import Outbound
from kernel.i18n import _, ngettext
from storage.models import ConversationState
from storage.progress import record_evidence

_CAPTION_NUMBER = re.compile(r"^\s*#?(\d{1,9})\b[\s.:\-]*(.*)$", re.DOTALL)


def caption_target(caption: str | None) -> tuple[int | None, str | None]:
    """The task number a caption starts with, and the rest of the caption."""
    if not caption:
        return None, None
    found = _CAPTION_NUMBER.match(caption)
    if found is None:
        return None, caption.strip() or None
    return int(found.group(1)), found.group(2).strip() or None


def receive(ctx: HandlerContext, current: ConversationState | None) -> list[Outbound]:
    assert ctx.official is not None
    number, caption = caption_target(ctx.inbound.text)
    target = number if number is not None else implied_target(ctx, current)
    if target is None:
        return [
            Outbound(
                _(
                    'Which task is this for? Tap "Send evidence" on the task first, '
                    'or send it again with the task number as caption (e.g. "12").'
                )
            )
        ]
    entry = allowed_item(ctx, target)
    if entry is None:
        return [not_yours(target)]
    files = ctx.inbound.attachments
    record_evidence(ctx.session, entry.assignment, files, caption, source(ctx))
    if current is None or current.kind != state.AWAIT_EVIDENCE:
        state.set_state(
            ctx.session,
            ctx.inbound.channel,
            ctx.inbound.chat_id,
            state.AWAIT_EVIDENCE,
            {"assignment_id": entry.id},
            ctx.now,
        )
    count = len(ctx.inbound.attachments)
    saved = ngettext(
        "📎 #%(id)d: %(n)d file saved as evidence.",
        "📎 #%(id)d: %(n)d files saved as evidence.",
        count,
    ) % {"id": entry.id, "n": count}
    return [Outbound(saved, assignment_id=entry.id)]
