"""What the next message from a chat means, kept in ``ConversationState`` (a table, so a
restart loses nothing). One state per chat; a command or a finished step clears it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from storage import conversation
from storage.conversation import ChatState

# What a state waits for.
AWAIT_PROGRESS = "await_progress"  # the percent / note after "Đang thực hiện"
AWAIT_BLOCKED = "await_blocked"  # the reason after "Vướng mắc"
AWAIT_NOTE = "await_note"  # the note after "Thêm ghi chú"
AWAIT_EVIDENCE = "await_evidence"  # a photo or document after "Gửi minh chứng"
PENDING_REPLY = "pending_reply"  # a quick reply waiting for "which task?"
FOCUS = "focus"  # the task last opened: a bare "xong" applies to it

# States that are about one task (``data["assignment_id"]``).
TASK_STATES = (AWAIT_PROGRESS, AWAIT_BLOCKED, AWAIT_NOTE, AWAIT_EVIDENCE, FOCUS)

TTL = {
    AWAIT_PROGRESS: timedelta(hours=12),
    AWAIT_BLOCKED: timedelta(hours=12),
    AWAIT_NOTE: timedelta(hours=12),
    AWAIT_EVIDENCE: timedelta(days=1),
    PENDING_REPLY: timedelta(hours=1),
    FOCUS: timedelta(minutes=30),
}


def get_state(session: Session, channel: str, chat_id: str, now: datetime) -> ChatState | None:
    return conversation.get_state(session, channel, chat_id, now)


def set_state(
    session: Session, channel: str, chat_id: str, kind: str, data: dict[str, Any], now: datetime
) -> ChatState:
    """Replace the chat's state (flushed), for as long as a state of this kind lives."""
    ttl = TTL.get(kind, timedelta(hours=1))
    return conversation.set_state(session, channel, chat_id, kind, data, now, ttl)


def clear_state(session: Session, channel: str, chat_id: str) -> None:
    conversation.clear_state(session, channel, chat_id)
