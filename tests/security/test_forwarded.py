"""A forwarded "6 xong" is someone else's words: never the forwarder's own report."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from aiogram.types import Message
from sqlmodel import col, select

from bot.channels.telegram import message_inbound
from bot.pipeline import apply_inbound
from handlers.types import Inbound
from storage.db import session_scope
from storage.invites import create_invite
from storage.models import ChannelIdentity, OutboxMessage, ProgressUpdate
from tests.handlers.helpers import World

_keys = itertools.count(1)
POLITE = "Đây là tin nhắn được chuyển tiếp nên không được ghi nhận"


def _message(**extra: object) -> Message:
    return Message.model_validate(
        {
            "message_id": 5,
            "date": 0,
            "chat": {"id": 3, "type": "private"},
            "from": {"id": 3, "is_bot": False, "first_name": "A"},
            "text": "6 xong",
            **extra,
        }
    )


def test_the_telegram_parser_marks_forwarded_messages() -> None:
    now = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)
    origin = {
        "type": "user",
        "date": 0,
        "sender_user": {"id": 8, "is_bot": False, "first_name": "B"},
    }
    forwarded = message_inbound(_message(forward_origin=origin), 1, now, bot_id=1)
    hidden = message_inbound(
        _message(forward_origin={"type": "hidden_user", "date": 0, "sender_user_name": "C"}),
        2,
        now,
        bot_id=1,
    )
    own = message_inbound(_message(), 3, now, bot_id=1)
    assert forwarded is not None and forwarded.is_forwarded
    assert hidden is not None and hidden.is_forwarded
    assert own is not None and not own.is_forwarded


def _send_forwarded(world: World, user: str, text: str) -> str:
    number = next(_keys)
    inbound = Inbound(
        channel="telegram",
        external_user_id=user,
        chat_id=user,
        update_key=f"fwd{number}",
        received_at=world.now,
        message_id=f"fm{number}",
        text=text,
        is_forwarded=True,
    )
    ids = apply_inbound(world.engine, inbound, world.settings, world.now) or []
    with world.session() as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))).all()
        return "\n".join(row.text for row in rows)


def _updates(world: World) -> list[ProgressUpdate]:
    with world.session() as session:
        return list(session.exec(select(ProgressUpdate)).all())


def test_a_forwarded_quick_reply_changes_nothing(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    before = world.assignment(number).status
    answer = _send_forwarded(world, user, f"{number} xong")
    assert POLITE in answer
    assert world.assignment(number).status == before
    assert _updates(world) == []
    # Typed by the official, the same words count.
    assert "Hoàn thành" in world.texts(user, f"{number} xong")
    assert len(_updates(world)) == 1


def test_a_forwarded_message_is_not_the_awaited_blocked_reason(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    assert "vướng mắc gì" in world.texts(user, f"{number} vướng")
    assert POLITE in _send_forwarded(world, user, "Chào buổi sáng cả nhà")
    assert world.assignment(number).status != "blocked"
    # The question is still open: the official's own answer is taken.
    world.texts(user, "thiếu kinh phí")
    assert world.assignment(number).status == "blocked"


def test_a_forwarded_invite_code_still_registers(world: World) -> None:
    with session_scope(world.engine) as session:
        code = create_invite(session, world.people["off1a"].id or 0, world.now, 14).code
    assert "Lê Thị Hoa" in _send_forwarded(world, "tg-500", code)
    with world.session() as session:
        assert [i.external_user_id for i in session.exec(select(ChannelIdentity)).all()] == [
            "tg-500"
        ]
