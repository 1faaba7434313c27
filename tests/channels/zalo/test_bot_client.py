"""The Zalo Bot client against the fake server: methods, splitting at 2000, the error map."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.channels.base import PermanentFailure, TemporaryFailure, Throttled
from bot.channels.zalo_bot.client import ZaloBotClient, validate_secret
from bot.channels.zalo_bot.errors import (
    ZaloBotError,
    ZaloConfigError,
    ZaloIdle,
    ZaloPermanentError,
    ZaloQuotaExceeded,
    ZaloServerError,
    error_for,
)
from bot.channels.zalo_bot.neutral import to_send_error
from bot.channels.zalo_bot.text import split_text
from kernel.clock import FixedClock
from tests.channels.zalo.conftest import BOT_TOKEN
from tests.fakes.fake_zalo_bot import FakeZaloBot


def webhook_of(fake: FakeZaloBot) -> dict[str, Any] | None:
    return fake.webhook  # read anew (mypy would keep an earlier narrowing)


def quota_flag(client: ZaloBotClient) -> datetime | None:
    return client.quota_exceeded_until


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (401, ZaloConfigError, False),
        (408, ZaloIdle, True),
        (429, ZaloQuotaExceeded, True),
        (403, ZaloServerError, True),  # documented as "Internal server error", not "blocked"
        (500, ZaloServerError, True),
        (400, ZaloPermanentError, False),
        (404, ZaloPermanentError, False),
        (413, ZaloPermanentError, False),
    ],
)
def test_the_error_map(status: int, kind: type[ZaloBotError], retryable: bool) -> None:
    error = error_for(status, "x", quota_backoff_seconds=7200)
    assert type(error) is kind
    assert error.retryable is retryable
    if isinstance(error, ZaloQuotaExceeded):
        assert error.backoff_seconds == 7200


def test_neutral_errors() -> None:
    def neutral(status: int) -> object:
        return to_send_error(error_for(status, "x", quota_backoff_seconds=7200))

    quota = neutral(429)
    assert isinstance(quota, Throttled) and quota.retry_after == 7200
    assert isinstance(neutral(403), TemporaryFailure)  # never "contact stopped"
    assert isinstance(neutral(401), TemporaryFailure)  # not the message's fault
    assert isinstance(neutral(400), PermanentFailure)
    assert isinstance(neutral(404), PermanentFailure)


def test_split_at_line_boundaries() -> None:
    lines = [f"{n}. Nhiệm vụ số {n}: báo cáo tiến độ cải thiện chỉ số PAPI" for n in range(1, 80)]
    text = "\n".join(lines)
    pieces = split_text(text, 2000)
    assert len(pieces) > 1
    assert all(1 <= len(piece) <= 2000 for piece in pieces)
    assert "\n".join(pieces) == text  # cut only at line breaks: nothing lost, nothing broken
    for piece in pieces:
        assert piece.split("\n")[0] in lines


def test_split_without_line_breaks_cuts_at_a_space_then_hard() -> None:
    words = ("xã " * 1500).strip()
    pieces = split_text(words, 2000)
    assert all(len(piece) <= 2000 for piece in pieces)
    assert " ".join(pieces) == words
    solid = "a" * 4500
    assert split_text(solid, 2000) == ["a" * 2000, "a" * 2000, "a" * 500]
    assert split_text("ngắn", 2000) == ["ngắn"]
    assert split_text("x" * 2000, 2000) == ["x" * 2000]


async def test_methods_against_the_fake(bot_client: ZaloBotClient, fake_bot: FakeZaloBot) -> None:
    me = await bot_client.get_me()
    assert me["account_name"] == "papi_test_bot"
    assert await bot_client.get_webhook_info() is None  # 404 when none is set
    await bot_client.set_webhook("https://example.invalid/zalo", "s3cret-enough")
    assert fake_bot.webhook == {
        "url": "https://example.invalid/zalo",
        "secret_token": "s3cret-enough",
    }
    info = await bot_client.get_webhook_info()
    assert info is not None and info["url"] == "https://example.invalid/zalo"
    await bot_client.delete_webhook()
    assert webhook_of(fake_bot) is None
    message_id = await bot_client.send_message("u1", "Xin chào")
    assert fake_bot.sent_to("u1")[0].message_id == message_id
    await bot_client.send_photo("u1", "https://cdn.example.invalid/p.jpg", "Ảnh minh chứng")
    assert fake_bot.sent_to("u1")[1].photo == "https://cdn.example.invalid/p.jpg"
    await bot_client.send_chat_action("u1")
    assert fake_bot.actions == [("u1", "typing")]


async def test_long_text_goes_out_in_pieces_of_at_most_2000(
    bot_client: ZaloBotClient, fake_bot: FakeZaloBot
) -> None:
    text = "\n".join(f"Dòng {n}: " + " ".join(["nội dung"] * 20) for n in range(40))
    ids = await bot_client.send_text("u2", text)
    sent = fake_bot.sent_to("u2")
    assert len(ids) == len(sent) > 1
    assert all(len(item.text or "") <= 2000 for item in sent)
    assert "\n".join(item.text or "" for item in sent) == text
    with pytest.raises(ZaloPermanentError):
        await bot_client.send_message("u2", "x" * 2001)  # never even sent
    assert len(fake_bot.sent_to("u2")) == len(sent)


def test_webhook_secret_length_is_checked() -> None:
    assert validate_secret("12345678") == "12345678"
    assert validate_secret("x" * 256)
    for bad in ("short", "", "x" * 257):
        with pytest.raises(ValueError, match="8-256") as caught:
            validate_secret(bad)
        assert bad not in str(caught.value) or bad == ""


async def test_quota_exceeded_sets_the_flag_and_holds_sends(
    bot_client: ZaloBotClient, fake_bot: FakeZaloBot, clock: FixedClock
) -> None:
    fake_bot.set_quota(1)
    await bot_client.send_message("u3", "một")
    with pytest.raises(ZaloQuotaExceeded) as caught:
        await bot_client.send_message("u3", "hai")
    assert caught.value.backoff_seconds == 3600
    assert bot_client.quota_exceeded_until == clock.now() + timedelta(seconds=3600)
    calls = len(fake_bot.calls)
    with pytest.raises(ZaloQuotaExceeded):  # held back locally: the spent quota is not hit
        await bot_client.send_message("u3", "ba")
    assert len(fake_bot.calls) == calls
    fake_bot.set_quota(None)  # a new month
    clock.advance(timedelta(seconds=3601))
    await bot_client.send_message("u3", "bốn")
    assert quota_flag(bot_client) is None
    assert [item.text for item in fake_bot.sent_to("u3")] == ["một", "bốn"]


async def test_a_wrong_token_is_a_config_error_without_the_token(
    fake_bot: FakeZaloBot, http: httpx.AsyncClient
) -> None:
    wrong = "1000:WRONG-token-value"
    client = ZaloBotClient(token=wrong, http=http, api_base=fake_bot.base_url)
    with pytest.raises(ZaloConfigError) as caught:
        await client.get_me()
    assert wrong not in str(caught.value)


@pytest.mark.parametrize(("status", "kind"), [(403, ZaloServerError), (400, ZaloPermanentError)])
async def test_send_errors_from_the_fake(
    bot_client: ZaloBotClient, fake_bot: FakeZaloBot, status: int, kind: type[ZaloBotError]
) -> None:
    fake_bot.fail_next("sendMessage", status)
    with pytest.raises(kind):
        await bot_client.send_message("u4", "x")


async def test_network_errors_are_temporary_and_redacted(http: httpx.AsyncClient) -> None:
    client = ZaloBotClient(token=BOT_TOKEN, http=http, api_base="http://127.0.0.1:9")
    with pytest.raises(ZaloServerError) as caught:
        await client.get_me()
    assert BOT_TOKEN not in str(caught.value)


async def test_get_updates_returns_one_update_or_nothing_when_idle(
    bot_client: ZaloBotClient, fake_bot: FakeZaloBot
) -> None:
    assert await bot_client.get_updates(0) == []  # 408
    await fake_bot.inject_message("u5", "một")
    await fake_bot.inject_message("u5", "hai")
    first = await bot_client.get_updates(0)
    assert [update["message"]["text"] for update in first] == ["một"]
    assert [u["message"]["text"] for u in await bot_client.get_updates(0)] == ["hai"]
