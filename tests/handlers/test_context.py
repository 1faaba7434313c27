"""What the conversation is given: a small frozen settings value, never the bot's secrets."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from bot.config import AppConfig, RemindersConfig, ReportCalendarConfig, Secrets, Settings
from bot.pipeline import apply_inbound, conversation_settings
from handlers import router
from handlers.context import ConversationSettings, HandlerContext
from handlers.types import Inbound, Reply
from tests.handlers.helpers import World


def _settings() -> Settings:
    return Settings(
        app=AppConfig(default_locale="en", timezone="Asia/Bangkok"),
        reminders=RemindersConfig(silence_days=9),
        report_calendar=ReportCalendarConfig(deadlines=["12-12"]),
        secrets=Secrets(telegram_bot_token=SecretStr("123:very-secret")),
    )


def test_the_conversation_gets_only_what_it_needs() -> None:
    given = conversation_settings(_settings())
    assert given == ConversationSettings(
        default_locale="en",
        timezone="Asia/Bangkok",
        silence_days=9,
        report_deadlines=("12-12",),
    )
    values = [getattr(given, f.name) for f in dataclasses.fields(given)]
    assert not any(isinstance(v, SecretStr) or "very-secret" in repr(v) for v in values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        given.silence_days = 1  # type: ignore[misc]


def test_apply_inbound_hands_the_handler_conversation_settings(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []

    def spy(ctx: HandlerContext) -> list[Reply]:
        seen.append(ctx.settings)
        return []

    monkeypatch.setattr(router, "handle", spy)
    inbound = Inbound(
        channel="telegram",
        external_user_id="stranger",
        chat_id="stranger",
        update_key="ctx-1",
        received_at=world.now,
        text="hi",
    )
    apply_inbound(world.engine, inbound, _settings(), world.now)
    assert seen == [conversation_settings(_settings())]
    assert not hasattr(seen[0], "secrets")


def test_today_is_the_configured_zone_s_date(world: World) -> None:
    late = datetime(2026, 6, 22, 17, 30, tzinfo=UTC)  # 00:30 on the 23rd in Vietnam
    inbound = Inbound("telegram", "u", "c", "k", late)
    with world.session() as session:
        vietnam = HandlerContext(session, ConversationSettings(), late, inbound)
        utc = HandlerContext(session, ConversationSettings(timezone="UTC"), late, inbound)
        assert (vietnam.today.day, utc.today.day) == (23, 22)
