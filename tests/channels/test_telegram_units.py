"""Small pure pieces of the Telegram adapter and the outbox policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.types import Message

from bot.channels.base import ContactStopped, PermanentFailure, TemporaryFailure, Throttled
from bot.channels.telegram import map_error, message_inbound, split_text
from bot.config import OutboxConfig, Settings, TelegramConfig, ZaloConfig
from bot.outbox_pacing import channel_rates
from bot.outbox_store import backoff_delay

NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)


def test_split_text_cuts_at_line_breaks_and_keeps_everything() -> None:
    text = "\n".join(f"dòng {n} " + "x" * 50 for n in range(200))
    pieces = split_text(text, 4096)
    assert len(pieces) > 1 and all(len(piece) <= 4096 for piece in pieces)
    assert "\n".join(pieces) == text


def test_split_text_without_line_breaks_cuts_hard() -> None:
    assert split_text("a" * 10, 4) == ["aaaa", "aaaa", "aa"]
    assert split_text("short", 4096) == ["short"]


def test_backoff_doubles_and_is_capped() -> None:
    settings = Settings(
        outbox=OutboxConfig(backoff_base_seconds=2, backoff_max_seconds=30, max_attempts=9)
    )
    delays = [backoff_delay(settings, n).total_seconds() for n in range(1, 7)]
    assert delays == [2, 4, 8, 16, 30, 30]


def test_rates_come_from_each_channels_settings() -> None:
    settings = Settings(
        telegram=TelegramConfig(global_rate_per_second=20, per_chat_rate_per_second=0.5),
        zalo=ZaloConfig(global_rate_per_second=3, per_chat_rate_per_second=1),
    )
    assert channel_rates(settings, "telegram") == (20, 0.5)
    assert channel_rates(settings, "zalo") == (3, 1)
    assert channel_rates(settings, "console") is None


def test_unknown_errors_are_temporary_and_token_is_redacted() -> None:
    token = "1:secret-token"
    error = map_error(OSError(f"cannot reach https://x/bot{token}/sendMessage"), token)
    assert isinstance(error, TemporaryFailure)
    assert token not in str(error) and "<token>" in str(error)
    assert isinstance(map_error(RuntimeError("?")), TemporaryFailure)
    assert not isinstance(
        map_error(RuntimeError("?")), (Throttled, ContactStopped, PermanentFailure)
    )


@pytest.mark.parametrize(
    ("extra", "kind"),
    [
        ({"voice": {"file_id": "v", "file_unique_id": "uv", "duration": 3}}, "voice"),
        (
            {
                "sticker": {
                    "file_id": "s",
                    "file_unique_id": "us",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            },
            "sticker",
        ),
    ],
)
def test_voice_and_sticker_become_attachments(extra: dict[str, object], kind: str) -> None:
    message = Message.model_validate(
        {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 3, "type": "private"},
            "from": {"id": 3, "is_bot": False, "first_name": "A"},
            **extra,
        }
    )
    inbound = message_inbound(message, 77, NOW, bot_id=4242)
    assert inbound is not None
    assert [a.kind for a in inbound.attachments] == [kind] and inbound.text is None
    assert inbound.update_key == "4242:m:3:1" and inbound.received_at == NOW
    assert inbound.earlier_key is not None and inbound.earlier_key.key == "77"


def test_a_message_from_a_bot_is_ignored() -> None:
    message = Message.model_validate(
        {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 3, "type": "private"},
            "from": {"id": 9, "is_bot": True, "first_name": "B"},
            "text": "hi",
        }
    )
    assert message_inbound(message, 1, NOW + timedelta(0), bot_id=4242) is None
