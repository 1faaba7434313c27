"""What the next message from a chat means, kept in ``ConversationState`` (a table, so a
restart loses nothing). One state per chat; a command or a finished step clears it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import ConversationState

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


def get_state(
    session: Session, channel: str, chat_id: str, now: datetime
) -> ConversationState | None:
    state = session.exec(
        select(ConversationState)
        .where(ConversationState.channel == channel)
        .where(ConversationState.chat_id == chat_id)
    ).first()
    if state is None:
        return None
    if state.expires_at is not None and state.expires_at <= now:
        session.delete(state)
        session.flush()
        return None
    return state


def set_state(
    session: Session, channel: str, chat_id: str, kind: str, data: dict[str, Any], now: datetime
) -> ConversationState:
    """Replace the chat's state (flushed)."""
    state = session.exec(
        select(ConversationState)
        .where(ConversationState.channel == channel)
        .where(ConversationState.chat_id == chat_id)
    ).first() or ConversationState(channel=channel, chat_id=chat_id, kind=kind)
    state.kind = kind
    state.data = dict(data)
    state.updated_at = now
    state.expires_at = now + TTL.get(kind, timedelta(hours=1))
    session.add(state)
    session.flush()
    return state


def clear_state(session: Session, channel: str, chat_id: str) -> None:
    session.execute(
        delete(ConversationState)
        .where(col(ConversationState.channel) == channel)
        .where(col(ConversationState.chat_id) == chat_id)
    )
