"""Conversation state rows: what the next message from a chat means. One row per chat; the
conversation (``handlers.state``) decides the kinds and how long each lives."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import ConversationState


def _find(session: Session, channel: str, chat_id: str) -> ConversationState | None:
    return session.exec(
        select(ConversationState)
        .where(ConversationState.channel == channel)
        .where(ConversationState.chat_id == chat_id)
    ).first()


def get_state(
    session: Session, channel: str, chat_id: str, now: datetime
) -> ConversationState | None:
    """The chat's state; an expired one is deleted (flushed) and gives None."""
    state = _find(session, channel, chat_id)
    if state is None:
        return None
    if state.expires_at is not None and state.expires_at <= now:
        session.delete(state)
        session.flush()
        return None
    return state


def set_state(
    session: Session,
    channel: str,
    chat_id: str,
    kind: str,
    data: dict[str, Any],
    now: datetime,
    ttl: timedelta,
) -> ConversationState:
    """Replace the chat's state (flushed); it expires ``ttl`` after ``now``."""
    state = _find(session, channel, chat_id) or ConversationState(
        channel=channel, chat_id=chat_id, kind=kind
    )
    state.kind = kind
    state.data = dict(data)
    state.updated_at = now
    state.expires_at = now + ttl
    session.add(state)
    session.flush()
    return state


def clear_state(session: Session, channel: str, chat_id: str) -> None:
    session.execute(
        delete(ConversationState)
        .where(col(ConversationState.channel) == channel)
        .where(col(ConversationState.chat_id) == chat_id)
    )
