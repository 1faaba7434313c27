"""One inbound message, applied exactly once: dedupe → identify → converse → outbox, in ONE
transaction.

The ``ProcessedUpdate`` row is the first statement of the transaction, so on SQLite it takes
the write lock at once (two processes on one file queue behind each other instead of failing
on a lock upgrade) and a redelivered update hits the unique constraint before anything else
happens. Every reply becomes an ``OutboxMessage`` row in the same transaction; the outbox
worker sends it after the commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.config import Settings
from handlers.context import HandlerContext
from handlers.types import Inbound, Outbound
from kernel.i18n import _, use_locale
from storage.models import (
    OUTBOX_PRIORITY_BROADCAST,
    OUTBOX_PRIORITY_REPLY,
    ChannelIdentity,
    Official,
    OutboxMessage,
    ProcessedUpdate,
)

log = logging.getLogger(__name__)


def reachable_identities(
    session: Session, official_ids: Iterable[int]
) -> dict[int, list[ChannelIdentity]]:
    """The chats each official can be written to (not marked unreachable), oldest link first;
    one query per 500 officials, so a sweep of 10,000 reminders stays cheap."""
    wanted = sorted(set(official_ids))
    found: dict[int, list[ChannelIdentity]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        for identity in session.exec(
            select(ChannelIdentity)
            .where(col(ChannelIdentity.official_id).in_(wanted[start : start + 500]))
            .where(col(ChannelIdentity.unreachable_at).is_(None))
            .order_by(col(ChannelIdentity.id))
        ):
            found[identity.official_id].append(identity)
    return found


def outbox_values(
    outbound: Outbound,
    channel: str,
    chat_id: str,
    official_id: int | None,
    now: datetime,
    *,
    same_chat: bool,
) -> dict[str, Any]:
    """The column values of one outbox row for ``outbound`` sent to (channel, chat_id).
    Reply/edit message ids only make sense in the chat they came from (``same_chat``); a
    row back to that chat is a reply and goes before broadcasts."""
    buttons = [[{"label": b.label, "payload": b.payload} for b in row] for row in outbound.buttons]
    return {
        "channel": channel,
        "chat_id": chat_id,
        "official_id": official_id,
        "kind": outbound.kind,
        "text": outbound.text,
        "buttons": buttons or None,
        "file_path": outbound.file.path if outbound.file else None,
        "file_name": outbound.file.file_name if outbound.file else None,
        "reply_to_message_id": outbound.reply_to_message_id if same_chat else None,
        "edit_message_id": outbound.edit_message_id if same_chat else None,
        "assignment_id": outbound.assignment_id,
        "status": "pending",
        "attempts": 0,
        "priority": OUTBOX_PRIORITY_REPLY if same_chat else OUTBOX_PRIORITY_BROADCAST,
        "next_attempt_at": now,
        "created_at": now,
    }


def enqueue(
    session: Session,
    outbounds: Sequence[Outbound],
    now: datetime,
    *,
    reply_channel: str | None = None,
    reply_chat_id: str | None = None,
    reply_official_id: int | None = None,
) -> list[OutboxMessage]:
    """Outbox rows for ``outbounds`` (flushed, so they have ids); the caller commits.

    An Outbound addressed to an official goes to each of their reachable chats (none: no
    row, the digest shows them as unreachable); one without goes back to the reply chat.
    """
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")
    identities = reachable_identities(
        session, (o.official_id for o in outbounds if o.official_id is not None)
    )
    rows: list[OutboxMessage] = []
    for outbound in outbounds:
        if outbound.official_id is None:
            if reply_channel is None or reply_chat_id is None:
                raise ValueError("an Outbound without official_id needs reply_channel and chat_id")
            targets = [(reply_channel, reply_chat_id)]
        else:
            targets = [(i.channel, i.chat_id) for i in identities.get(outbound.official_id, [])]
        for channel, chat_id in targets:
            same_chat = (channel, chat_id) == (reply_channel, reply_chat_id)
            official_id = outbound.official_id or reply_official_id
            values = outbox_values(
                outbound, channel, chat_id, official_id, now, same_chat=same_chat
            )
            row = OutboxMessage(**values)
            session.add(row)
            rows.append(row)
    session.flush()
    return rows


def _identify(session: Session, inbound: Inbound) -> tuple[ChannelIdentity | None, Official | None]:
    identity = session.exec(
        select(ChannelIdentity)
        .where(ChannelIdentity.channel == inbound.channel)
        .where(ChannelIdentity.external_user_id == inbound.external_user_id)
    ).first()
    if identity is None:
        return None, None
    official = session.get(Official, identity.official_id)
    if official is None or not official.active:
        return None, None  # a deactivated official is treated as a stranger
    # They write to us from this chat now, so it is reachable again (and may have moved).
    if identity.chat_id != inbound.chat_id or identity.unreachable_at is not None:
        identity.chat_id = inbound.chat_id
        identity.unreachable_at = None
        session.add(identity)
    return identity, official


def _converse(ctx: HandlerContext) -> list[Outbound]:
    """The handler's answer; a crash rolls its changes back and apologises instead, so a bad
    message is still recorded as processed and is not redelivered for ever."""
    from handlers.router import handle  # the router imports every handler module

    savepoint = ctx.session.begin_nested()
    try:
        outbounds = handle(ctx)
        savepoint.commit()
        return outbounds
    except Exception:
        savepoint.rollback()
        log.exception("handler failed on %s update %s", ctx.inbound.channel, ctx.inbound.update_key)
        locale = ctx.official.locale if ctx.official else ctx.settings.app.default_locale
        with use_locale(locale):
            return [Outbound(_("Sorry, something went wrong. Please try again later."))]


def apply_inbound(
    engine: Engine,
    inbound: Inbound,
    settings: Settings,
    now: datetime,
    *,
    text_limit: int | None = None,
) -> list[int] | None:
    """Apply one inbound update; the new outbox ids, or None if it was already applied.
    ``text_limit``: what the inbound's channel declares, for the conversation's paging."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")
    with Session(engine, expire_on_commit=False) as session:
        try:
            session.add(
                ProcessedUpdate(
                    channel=inbound.channel, update_key=inbound.update_key, processed_at=now
                )
            )
            session.flush()
        except IntegrityError:
            session.rollback()
            return None  # redelivered (or applied by another process meanwhile)
        try:
            identity, official = _identify(session, inbound)
            ctx = HandlerContext(
                session=session,
                settings=settings,
                now=now,
                inbound=inbound,
                identity=identity,
                official=official,
                text_limit=text_limit,
            )
            outbounds = _converse(ctx)
            official_id = ctx.official.id if ctx.official else None
            rows = enqueue(
                session,
                outbounds,
                now,
                reply_channel=inbound.channel,
                reply_chat_id=inbound.chat_id,
                reply_official_id=official_id,
            )
            ids = [row.id for row in rows if row.id is not None]
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return ids
