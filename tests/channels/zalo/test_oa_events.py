"""OA events → Inbound / OAFollow: ids stay strings, payload-prefixed texts are button presses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channels.zalo_oa.events import OAFollow, parse_event
from handlers.types import Inbound
from tests.fakes.fake_zalo_oa import FakeZaloOA

NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)
USER = "8412345678901234567"  # above 2^53: must never pass through a float


def inbound(event: Any, **kwargs: Any) -> Inbound:
    result = parse_event(event, NOW, **kwargs)
    assert isinstance(result, Inbound), result
    return result


def test_text(fake_oa: FakeZaloOA) -> None:
    event = fake_oa.text_event(USER, "50% đang họp dân")
    event["message"]["quote_msg_id"] = "q77"
    parsed = inbound(event)
    assert parsed.channel == "zalo_oa"
    assert parsed.external_user_id == USER == parsed.chat_id
    assert parsed.text == "50% đang họp dân" and parsed.payload is None
    assert parsed.update_key == event["message"]["msg_id"] == parsed.message_id
    assert parsed.reply_to_message_id == "q77"
    assert parsed.received_at == datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC)


def test_numeric_ids_become_exact_strings(fake_oa: FakeZaloOA) -> None:
    event = fake_oa.text_event(USER, "xong")
    event["sender"]["id"] = int(USER)
    assert inbound(event).external_user_id == USER


@pytest.mark.parametrize(("prefix", "payload"), [("#papi:", "done:12"), ("#x:", None)])
def test_a_prefixed_text_is_a_button_press(
    fake_oa: FakeZaloOA, prefix: str, payload: str | None
) -> None:
    parsed = inbound(fake_oa.text_event(USER, "#papi:done:12"), payload_prefix=prefix)
    assert parsed.payload == payload
    assert parsed.text == (None if payload else "#papi:done:12")


def test_image_and_file(fake_oa: FakeZaloOA) -> None:
    image = inbound(fake_oa.image_event(USER, "Ảnh họp dân"))
    assert [a.kind for a in image.attachments] == ["photo"]
    assert image.attachments[0].file_id.startswith("http://127.0.0.1")
    assert image.text == "Ảnh họp dân"
    file = inbound(fake_oa.file_event(USER, "báo cáo.pdf", 20480))
    (doc,) = file.attachments
    assert (doc.kind, doc.file_name, doc.file_size) == ("document", "báo cáo.pdf", 20480)
    assert file.text is None


def test_follow_and_unfollow(fake_oa: FakeZaloOA) -> None:
    follow = parse_event(fake_oa.follow_event(USER), NOW)
    unfollow = parse_event(fake_oa.follow_event(USER, follow=False), NOW)
    assert isinstance(follow, OAFollow) and follow.followed and follow.user_id == USER
    assert isinstance(unfollow, OAFollow) and not unfollow.followed
    assert follow.update_key != unfollow.update_key


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {"event_name": "user_seen_message"},
        {"event_name": "user_send_text", "sender": {}, "message": {"msg_id": "1"}},
        {"event_name": "user_send_text", "sender": {"id": "1"}, "message": {"text": "x"}},
        {"event_name": "follow"},
    ],
)
def test_what_is_ignored(event: Any) -> None:
    assert parse_event(event, NOW) is None
