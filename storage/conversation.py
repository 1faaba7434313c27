"""Conversation state rows: what the next message from a chat means. One row per chat; the
conversation (``handlers.state``) decides the kinds and how long each lives.

A message usually reads its chat's state and then replaces it: the row read is remembered in
the session (``session.info``) for that one transaction, so the replacement does not read it
again. Nothing outlives the session, so no other transaction can be served a stale state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from storage.models import ConversationState
from storage.prebuilt import UpdateById

_READ = "papi_conversation_state"  # session.info key: (transaction, {(channel, chat): row})
_MISSING = object()


def _read(session: Session) -> dict[tuple[str, str], ConversationState | None]:
    """What this transaction read or wrote; a new transaction (after a commit or rollback)
    starts afresh: another process may have changed the rows meanwhile."""
    transaction = session.get_transaction()
    cached = session.info.get(_READ)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[_READ] = cached
    found: dict[tuple[str, str], ConversationState | None] = cached[1]
    return found


# Built once with bound parameters (read for every inbound message).
_STATE = (
    select(ConversationState)
    .where(col(ConversationState.channel) == bindparam("channel"))
    .where(col(ConversationState.chat_id) == bindparam("chat"))
)


def _find(session: Session, channel: str, chat_id: str) -> ConversationState | None:
    key = (channel, chat_id)
    known = _read(session).get(key, _MISSING)
    if known is None:
        return None
    # A row is trusted only while it is one of the session's live objects (a savepoint's
    # rollback expunges the rows it created).
    if isinstance(known, ConversationState) and known in session and known not in session.deleted:
        return known
    state = session.exec(_STATE, params={"channel": channel, "chat": chat_id}).first()
    _read(session)[key] = state
    return state


def get_state(
    session: Session, channel: str, chat_id: str, now: datetime
) -> ConversationState | None:
    """The chat's state; an expired one is deleted (at once) and gives None."""
    state = _find(session, channel, chat_id)
    if state is None:
        return None
    if state.expires_at is not None and state.expires_at <= now:
        _forget(session, state)
        _read(session)[(channel, chat_id)] = None
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
    """Replace the chat's state; it expires ``ttl`` after ``now``. Written at once by one
    prebuilt statement (an UPDATE of the row read, else an INSERT), and the object takes the
    values as its committed state: most messages set a state, and as a dirty ORM object it
    cost a flush of its own at the commit."""
    values: dict[str, Any] = {"kind": kind, "data": dict(data)}
    values |= {"updated_at": now, "expires_at": now + ttl}
    state = _find(session, channel, chat_id)
    connection = session.connection()
    if state is not None and state.id is not None and state not in session.new:
        _UPDATE.run(connection, state.id, values)
        for name, value in values.items():
            set_committed_value(state, name, value)
    else:
        if state is not None:  # not written yet: written below instead
            session.expunge(state)
        row = {"channel": channel, "chat_id": chat_id} | values
        new_id = connection.execute(_INSERT, row).scalar_one()
        state = ConversationState(
            id=new_id, channel=channel, chat_id=chat_id, kind=kind, data=dict(data)
        )
        state.updated_at, state.expires_at = now, now + ttl
        make_transient_to_detached(state)
        session.add(state)  # persistent: the row exists, the session writes nothing more
    _read(session)[(channel, chat_id)] = state
    return state


def clear_state(session: Session, channel: str, chat_id: str) -> None:
    _read(session)[(channel, chat_id)] = None  # the DELETE below removes it, if there is one
    session.execute(
        delete(ConversationState)
        .where(col(ConversationState.channel) == channel)
        .where(col(ConversationState.chat_id) == chat_id)
    )


def _forget(session: Session, state: ConversationState) -> None:
    """Delete the row of ``state`` and drop it from the session."""
    if state.id is not None and state not in session.new:
        session.connection().execute(_DELETE, {"id": state.id})
    session.expunge(state)


_TABLE: Table = ConversationState.__table__  # type: ignore[attr-defined]
_UPDATE = UpdateById(_TABLE, ("kind", "data", "updated_at", "expires_at"))
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_DELETE = delete(_TABLE).where(_TABLE.c.id == bindparam("id"))
