"""Zalo Bot update parsing: both body shapes, both name keys, both date units, both photo keys,
and the unsupported event (with and without a message)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channels.zalo_bot.updates import (
    AskForText,
    ask_for_text_message,
    parse_date,
    parse_update,
    unwrap,
    update_key,
)
from handlers.types import Inbound
from kernel.i18n import use_locale

NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)
SENT = datetime(2026, 6, 21, 23, 30, tzinfo=UTC)


def message(**extra: Any) -> dict[str, Any]:
    return {
        "from": {"id": "u42", "display_name": "Nguyễn Thị Lan", "is_bot": False},
        "chat": {"id": "u42", "chat_type": "PRIVATE"},
        "message_id": "2d758cb5e8ad73f32abc",
        "date": int(SENT.timestamp() * 1000),
        **extra,
    }


def text_event(**extra: Any) -> dict[str, Any]:
    return {"event_name": "message.text.received", "message": message(text="xong", **extra)}


def parsed(body: Any, **kwargs: Any) -> Inbound:
    result = parse_update(body, NOW, **kwargs)
    assert isinstance(result, Inbound), result
    return result


@pytest.mark.parametrize("shape", ["wrapped", "flat"])
def test_both_body_shapes(shape: str) -> None:
    event = text_event()
    body = {"ok": True, "result": event} if shape == "wrapped" else event
    inbound = parsed(body)
    assert inbound.channel == "zalo"
    assert inbound.text == "xong"
    assert inbound.external_user_id == "u42" and inbound.chat_id == "u42"
    assert inbound.update_key == "2d758cb5e8ad73f32abc" == inbound.message_id
    assert inbound.display_name == "Nguyễn Thị Lan"
    assert inbound.received_at == SENT


def test_first_name_instead_of_display_name() -> None:
    event = text_event()
    event["message"]["from"] = {"id": "u42", "first_name": "Lan", "is_bot": False}
    assert parsed(event).display_name == "Lan"


def test_text_is_nfc_normalised() -> None:
    decomposed = "hoa\u0300n tha\u0300nh"
    event = {"event_name": "message.text.received", "message": message(text=decomposed)}
    assert parsed(event).text == "hoàn thành"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (int(SENT.timestamp() * 1000), "auto", SENT),
        (int(SENT.timestamp()), "auto", SENT),
        (int(SENT.timestamp() * 1000), "ms", SENT),
        (int(SENT.timestamp()), "s", SENT),
        (str(int(SENT.timestamp() * 1000)), "auto", SENT),
        (int(SENT.timestamp() * 1000), "s", None),  # a wrong forced unit: implausible, dropped
        (int(SENT.timestamp()), "ms", None),
        (None, "auto", None),
        ("soon", "auto", None),
    ],
)
def test_dates(value: Any, unit: Any, expected: datetime | None) -> None:
    assert parse_date(value, unit) == expected


def test_an_implausible_date_falls_back_to_now() -> None:
    event = text_event()
    event["message"]["date"] = int(SENT.timestamp())
    assert parsed(event, date_unit="ms").received_at == NOW


@pytest.mark.parametrize("key", ["photo_url", "photo"])
def test_image_under_either_key(key: str) -> None:
    url = "https://photo-stal.zadn.vn/abc.jpg"
    body = message(caption="Ảnh họp dân")
    body[key] = url
    event = {"event_name": "message.image.received", "message": body}
    inbound = parsed(event)
    assert [(a.kind, a.file_id) for a in inbound.attachments] == [("photo", url)]
    assert inbound.text == "Ảnh họp dân"


def test_unsupported_with_a_message_asks_that_chat_for_text() -> None:
    event = {"event_name": "message.unsupported.received", "message": message()}
    result = parse_update(event, NOW)
    assert result == AskForText("2d758cb5e8ad73f32abc", chat_id="u42", external_user_id="u42")
    assert isinstance(result, AskForText) and result.can_answer


def test_unsupported_without_a_message_does_not_crash() -> None:
    result = parse_update(
        {"ok": True, "result": {"event_name": "message.unsupported.received"}}, NOW
    )
    assert isinstance(result, AskForText)
    assert not result.can_answer
    assert result.update_key.startswith("sha:")


def test_the_ask_for_text_answer_is_translated() -> None:
    with use_locale("vi"):
        vi = ask_for_text_message()
    with use_locale("en"):
        en = ask_for_text_message()
    assert "Please type" in en
    assert vi != en and "nhập" in vi


def test_a_message_without_text_or_photo_asks_for_text() -> None:
    event = {"event_name": "message.text.received", "message": message()}
    assert isinstance(parse_update(event, NOW), AskForText)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {"ok": True},
        {"ok": True, "result": {}},
        {"message": {"text": "x"}},
    ],
)
def test_unknown_shapes_are_ignored(body: Any) -> None:
    assert parse_update(body, NOW) is None


def test_bots_and_groups_are_ignored_unless_groups_are_accepted() -> None:
    bot = text_event()
    bot["message"]["from"]["is_bot"] = True
    assert parse_update(bot, NOW) is None
    group = text_event()
    group["message"]["chat"] = {"id": "g1", "chat_type": "GROUP"}
    assert parse_update(group, NOW) is None
    inbound = parsed(group, accept_groups=True)
    assert inbound.chat_id == "g1" and inbound.external_user_id == "u42"


def test_update_key_is_the_message_id_with_an_optional_prefix() -> None:
    event = text_event()
    assert update_key(event) == "2d758cb5e8ad73f32abc"
    assert update_key(event, "1000:") == "1000:2d758cb5e8ad73f32abc"
    assert parsed(event, key_prefix="1000:").update_key == "1000:2d758cb5e8ad73f32abc"
    assert unwrap({"ok": True, "result": event}) == event
