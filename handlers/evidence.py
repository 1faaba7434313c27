"""Evidence: a photo or document stored against a task (the channel's file id, not the file).

The task is, in order: a number in the caption ("12" or "#12 biên bản họp"), the task whose
"Gửi minh chứng" button was tapped (the state stays for further photos), the reminder the
photo replies to, the task just opened. Otherwise the bot asks and stores nothing.

A photo the channel could not keep a copy of (Zalo's links expire; ``Attachment.fetch_error``)
is still recorded, so the official's message is never lost, and the reply says why and asks
for it again.
"""

from __future__ import annotations

import re

from handlers import state
from handlers.context import HandlerContext
from handlers.progress import implied_target, source
from handlers.tasks import allowed_item, not_yours
from handlers.types import Attachment, Outbound
from kernel.i18n import _, ngettext
from storage.conversation import ChatState
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


def receive(ctx: HandlerContext, current: ChatState | None) -> list[Outbound]:
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
    kept = [a for a in files if a.fetch_error is None]
    lines = []
    if kept:
        lines.append(
            ngettext(
                "📎 #%(id)d: %(n)d file saved as evidence.",
                "📎 #%(id)d: %(n)d files saved as evidence.",
                len(kept),
            )
            % {"id": entry.id, "n": len(kept)}
        )
    lines.extend(_not_kept(entry.id, a) for a in files if a.fetch_error is not None)
    return [Outbound("\n".join(lines), assignment_id=entry.id)]


def _not_kept(assignment_id: int, attachment: Attachment) -> str:
    reasons = {
        "too_big": _("it is larger than the bot accepts; please send a smaller photo"),
        "not_image": _("it is not a photo (JPEG, PNG, GIF or WebP)"),
        "write_failed": _("the bot could not store it; please send it again later"),
    }
    reason = reasons.get(
        attachment.fetch_error or "",
        _("it could not be downloaded from the chat app; please send it again"),
    )
    return _(
        "⚠️ #%(id)d: your message is recorded, but the photo could not be saved: %(reason)s."
    ) % {"id": assignment_id, "reason": reason}
