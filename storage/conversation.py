"""Conversation state rows: what the next message from a chat means. One row per chat; the
conversation (``handlers.state``) decides the kinds and how long each lives.

A state is read as a plain value (``ChatState``), by one prebuilt Core statement: every
inbound message reads its chat's state, and an ORM object cost three times the statement.
A message usually reads the state and then replaces it: the value read is remembered in the
session (``session.info``) for that one transaction, so the replacement does not read it
again. Nothing outlives the transaction, so no other transaction can be served a stale
state, and inside a savepoint nothing is remembered (its rollback would undo what was).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlmodel import Session

from storage.models import ConversationState
from storage.prebuilt import UpdateById
from storage.prepared import Prepared, session_connection

_TABLE: Table = ConversationState.__table__  # type: ignore[attr-defined]
_COLUMN = _TABLE.c


@dataclass(frozen=True, slots=True)
class ChatState:
    """A chat's state as written: its kind, its data, until when it holds."""

    id: int
    kind: str
    data: Mapping[str, Any]
    expires_at: datetime | None


_READ = "papi_conversation_state"  # session.info key: (transaction, {(channel, chat): state})
_MISSING = object()

# Built once with bound parameters (read for every inbound message).
_STATE = Prepared(
    select(_COLUMN.id, _COLUMN.kind, _COLUMN.data, _COLUMN.expires_at).where(
        _COLUMN.channel == bindparam("channel"), _COLUMN.chat_id == bindparam("chat")
    )
)
_UPDATE = UpdateById(_TABLE, ("kind", "data", "updated_at", "expires_at"))
_INSERT = Prepared(insert(_TABLE).returning(_COLUMN.id), keyed=True)
_DELETE = Prepared(delete(_TABLE).where(_COLUMN.id == bindparam("id")))
_DELETE_CHAT = Prepared(
    delete(_TABLE).where(
        _COLUMN.channel == bindparam("channel"), _COLUMN.chat_id == bindparam("chat")
    )
)


def _known(session: Session) -> dict[tuple[str, str], ChatState | None] | None:
    """What this transaction read or wrote, or None inside a savepoint (nothing is kept
    there). A new transaction (after a commit or rollback) starts afresh: another process
    may have changed the rows meanwhile."""
    if session.get_nested_transaction() is not None:
        session.info.pop(_READ, None)  # what a savepoint changes may be undone: read again
        return None
    transaction = session.get_transaction()
    cached = session.info.get(_READ)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[_READ] = cached
    known: dict[tuple[str, str], ChatState | None] = cached[1]
    return known


def _remember(session: Session, key: tuple[str, str], state: ChatState | None) -> None:
    known = _known(session)
    if known is not None:
        known[key] = state


def _find(session: Session, channel: str, chat_id: str) -> ChatState | None:
    key = (channel, chat_id)
    known = _known(session)
    if known is not None:
        found = known.get(key, _MISSING)
        if found is not _MISSING:
            assert found is None or isinstance(found, ChatState)
            return found
    row = _STATE.first(session_connection(session), {"channel": channel, "chat": chat_id})
    state = None if row is None else ChatState(row.id, row.kind, row.data or {}, row.expires_at)
    _remember(session, key, state)
    return state


def get_state(session: Session, channel: str, chat_id: str, now: datetime) -> ChatState | None:
    """The chat's state; an expired one is deleted (at once) and gives None."""
    state = _find(session, channel, chat_id)
    if state is None:
        return None
    if state.expires_at is not None and state.expires_at <= now:
        _DELETE.run(session_connection(session), {"id": state.id})
        _remember(session, (channel, chat_id), None)
        return None
    return state


def set_state(
    session: Session,
    channel: str,
    chat_id: str,
    kind: str,
    data: Mapping[str, Any],
    now: datetime,
    ttl: timedelta,
) -> ChatState:
    """Replace the chat's state; it expires ``ttl`` after ``now``. Written at once by one
    prebuilt statement: an UPDATE of the row read, else an INSERT."""
    values: dict[str, Any] = {"kind": kind, "data": dict(data)}
    values |= {"updated_at": now, "expires_at": now + ttl}
    state = _find(session, channel, chat_id)
    connection = session_connection(session)
    if state is not None:
        _UPDATE.run(connection, state.id, values)
        row_id = state.id
    else:
        row = {"channel": channel, "chat_id": chat_id} | values
        row_id = _INSERT.scalar_one(connection, row)
    written = ChatState(row_id, kind, values["data"], values["expires_at"])
    _remember(session, (channel, chat_id), written)
    return written


def clear_state(session: Session, channel: str, chat_id: str) -> None:
    _DELETE_CHAT.run(session_connection(session), {"channel": channel, "chat": chat_id})
    _remember(session, (channel, chat_id), None)
