"""Telegram's tables for the channel contract runner (webhook in, Bot API out)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.base import (
    ContactStopped,
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    Throttled,
)
from bot.channels.telegram import TelegramChannel, TelegramReceiver, make_bot
from handlers.types import Attachment, Button, Inbound
from kernel.clock import FixedClock
from tests.channels.contract import (
    IncomingCase,
    MockPlatform,
    MockResponse,
    NetworkGuard,
    OutgoingCase,
    incoming_params,
    outgoing_params,
    run_incoming,
    run_outgoing,
)

TOKEN = "987654:CONTRACT-telegram-token-never-logged"
SECRET = "webhook-secret_42"
NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)
USER = {"id": 5, "is_bot": False, "first_name": "Lê", "last_name": "Văn Bình"}
CHAT = {"id": 5, "type": "private", "first_name": "Lê"}
GOOD = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def update(update_id: int, **message: Any) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": 10, "date": 1750000000, "chat": CHAT, "from": USER, **message},
    }


def sent(message_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "ok": True,
        "result": {"message_id": message_id, "date": 1750000000, "chat": CHAT, **extra},
    }


def error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


INCOMING = [
    IncomingCase(
        "text is NFC-normalised",
        update(101, text="Hoa\u0300n tha\u0300nh"),  # decomposed, as some keyboards send
        headers=GOOD,
        expect={
            "text": "Hoàn thành",
            "external_user_id": "5",
            "chat_id": "5",
            "message_id": "10",
            "update_key": "987654:m:5:10",  # bot id (the token's prefix), chat, message
            "display_name": "Lê Văn Bình",
            "received_at": NOW,
        },
    ),
    IncomingCase(
        "/start CODE passes through as text",
        update(102, text="/start AB12CD34"),
        headers=GOOD,
        expect={"text": "/start AB12CD34", "payload": None},
    ),
    IncomingCase(
        "photo with caption: the largest size, caption as text",
        update(
            103,
            caption="12",
            photo=[
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                {
                    "file_id": "big",
                    "file_unique_id": "b",
                    "width": 1280,
                    "height": 960,
                    "file_size": 99000,
                },
            ],
        ),
        headers=GOOD,
        expect={
            "text": "12",
            "attachments": (
                Attachment(
                    kind="photo",
                    file_id="big",
                    file_unique_id="b",
                    file_size=99000,
                    mime_type="image/jpeg",
                ),
            ),
        },
    ),
    IncomingCase(
        "document keeps name and type",
        update(
            104,
            document={
                "file_id": "d1",
                "file_unique_id": "ud1",
                "file_name": "Bie\u0302n ba\u0309n.pdf",
                "mime_type": "application/pdf",
                "file_size": 2048,
            },
        ),
        headers=GOOD,
        expect={
            "text": None,
            "attachments": (
                Attachment(
                    kind="document",
                    file_id="d1",
                    file_unique_id="ud1",
                    file_name="Biên bản.pdf",
                    mime_type="application/pdf",
                    file_size=2048,
                ),
            ),
        },
    ),
    IncomingCase(
        "a reply names the bot message it answers",
        update(
            105,
            text="xong",
            reply_to_message={
                "message_id": 7,
                "date": 1750000000,
                "chat": CHAT,
                "from": {"id": 1000, "is_bot": True, "first_name": "bot"},
                "text": "Nhắc việc",
            },
        ),
        headers=GOOD,
        expect={"text": "xong", "reply_to_message_id": "7"},
    ),
    IncomingCase(
        "button press: payload, the message it is on, spinner stopped",
        {
            "update_id": 106,
            "callback_query": {
                "id": "cb-1",
                "from": USER,
                "chat_instance": "ci",
                "data": "a:12:done",
                "message": {"message_id": 33, "date": 1750000000, "chat": CHAT, "text": "Task"},
            },
        },
        headers=GOOD,
        expect={
            "payload": "a:12:done",
            "message_id": "33",
            "chat_id": "5",
            "text": None,
            "update_key": "987654:c:cb-1",
        },
        responses=(MockResponse("answerCallbackQuery", {"ok": True, "result": True}),),
        requests=({"method": "answerCallbackQuery", "callback_query_id": "cb-1"},),
    ),
    IncomingCase(
        "no secret header: 401, nothing applied",
        update(107, text="xong"),
        status=401,
        modes=("webhook",),
    ),
    IncomingCase(
        "wrong secret header: 401, nothing applied",
        update(108, text="xong"),
        status=401,
        headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
        modes=("webhook",),
    ),
    IncomingCase(
        "a secret header that is not ASCII: 401, not 500",
        update(110, text="xong"),
        status=401,
        headers={"X-Telegram-Bot-Api-Secret-Token": "bí-mật-" + SECRET},
        modes=("webhook",),
    ),
    IncomingCase(
        "the right secret, a body that is not JSON: 400, not 500",
        b'{"update_id": 111, "message": ',
        status=400,
        headers=GOOD,
        modes=("webhook",),
    ),
    IncomingCase(
        "the right secret, JSON that is not an object: 400",
        b"[1, 2, 3]",
        status=400,
        headers=GOOD,
        modes=("webhook",),
    ),
    IncomingCase(
        "the right secret, JSON nested past any update: 400",
        b"[" * 100_000 + b"]" * 100_000,
        status=400,
        headers=GOOD,
        modes=("webhook",),
    ),
    IncomingCase(
        "an update without chat: 200 (recorded, skipped), nothing applied",
        {"update_id": 112, "message": {"message_id": 10, "date": 1750000000, "from": USER}},
        headers=GOOD,
    ),
    IncomingCase(
        'an update with "date": "yesterday": 200, nothing applied',
        update(113, date="yesterday", text="xong"),
        headers=GOOD,
    ),
    IncomingCase(
        "a lone surrogate and control characters are cleaned from the text",
        update(114, text="/baocao \ud800 x\x00y"),
        headers=GOOD,
        expect={"text": "/baocao \ufffd xy"},
    ),
    IncomingCase(
        "a group chat is marked, for the pipeline to refuse",
        update(115, chat={"id": -1005, "type": "supergroup", "title": "Tổ"}, text="/nhiemvu"),
        headers=GOOD,
        expect={"chat_id": "-1005", "group_chat": True, "update_key": "987654:m:-1005:10"},
    ),
    IncomingCase(
        "a channel post has no sender: ignored",
        {
            "update_id": 109,
            "channel_post": {
                "message_id": 1,
                "date": 1750000000,
                "chat": {"id": -100, "type": "channel"},
                "text": "x",
            },
        },
        headers=GOOD,
    ),
]

MSG = OutgoingMessage(chat_id="5", text="Xin chào")
BUTTONS = ((Button("Hoàn thành", "a:12:done"), Button("Vướng mắc", "a:12:blocked")),)

OUTGOING = [
    OutgoingCase(
        "plain text",
        MSG,
        responses=(MockResponse("sendMessage", sent(42, text="Xin chào")),),
        requests=({"method": "sendMessage", "chat_id": "5", "text": "Xin chào"},),
        external_id="42",
    ),
    OutgoingCase(
        "buttons become an inline keyboard",
        OutgoingMessage(chat_id="5", text="Nhiệm vụ 12", buttons=BUTTONS),
        responses=(MockResponse("sendMessage", sent(43)),),
        requests=(
            {
                "method": "sendMessage",
                "reply_markup": {
                    "inline_keyboard": [
                        [
                            {"text": "Hoàn thành", "callback_data": "a:12:done"},
                            {"text": "Vướng mắc", "callback_data": "a:12:blocked"},
                        ]
                    ]
                },
            },
        ),
        external_id="43",
    ),
    OutgoingCase(
        "reply to a message",
        OutgoingMessage(chat_id="5", text="Đã ghi nhận", reply_to_message_id="10"),
        responses=(MockResponse("sendMessage", sent(44)),),
        requests=({"method": "sendMessage", "reply_parameters": {"message_id": 10}},),
        external_id="44",
    ),
    OutgoingCase(
        "edit the message a button was pressed on",
        OutgoingMessage(chat_id="5", text="Trang 2", buttons=BUTTONS, edit_message_id="33"),
        responses=(MockResponse("editMessageText", sent(33)),),
        requests=({"method": "editMessageText", "message_id": "33", "text": "Trang 2"},),
        external_id="33",
    ),
    OutgoingCase(
        "an edit that changes nothing is a success",
        OutgoingMessage(chat_id="5", text="Trang 2", edit_message_id="33"),
        responses=(
            MockResponse(
                "editMessageText",
                error(400, "Bad Request: message is not modified"),
                status=400,
            ),
        ),
        requests=({"method": "editMessageText"},),
        external_id="33",
    ),
    OutgoingCase(
        "a text over 4096 characters is split at a line break, buttons on the last part",
        OutgoingMessage(chat_id="5", text="a" * 3000 + "\n" + "b" * 3000, buttons=BUTTONS),
        responses=(MockResponse("sendMessage", sent(45)), MockResponse("sendMessage", sent(46))),
        requests=(
            {"method": "sendMessage", "text": "a" * 3000},
            {"method": "sendMessage", "text": "b" * 3000, "reply_markup": {}},
        ),
        external_id="46",
    ),
    OutgoingCase(
        "a report file goes as a document with the text as caption",
        OutgoingMessage(
            chat_id="5", text="Báo cáo quý II", file_path="bao-cao.xlsx", file_name="bao-cao.xlsx"
        ),
        files={"bao-cao.xlsx": b"PK\x03\x04 fake xlsx"},
        responses=(MockResponse("sendDocument", sent(47)),),
        requests=(
            {
                "method": "sendDocument",
                "caption": "Báo cáo quý II",
                "document": {"file_name": "bao-cao.xlsx", "size": 14},
            },
        ),
        external_id="47",
    ),
    OutgoingCase(
        "a chart goes as a photo",
        OutgoingMessage(chat_id="5", text="Biểu đồ", file_path="chart.png", file_name="chart.png"),
        files={"chart.png": b"\x89PNG fake"},
        responses=(MockResponse("sendPhoto", sent(48)),),
        requests=({"method": "sendPhoto", "photo": {"file_name": "chart.png"}},),
        external_id="48",
    ),
    OutgoingCase(
        "a missing file is a permanent failure, nothing is sent",
        OutgoingMessage(chat_id="5", text="x", file_path="gone.docx"),
        error=PermanentFailure,
    ),
    OutgoingCase(
        "429 → Throttled with retry_after",
        MSG,
        responses=(
            MockResponse(
                "sendMessage",
                error(429, "Too Many Requests: retry after 7", retry_after=7),
                status=429,
            ),
        ),
        requests=({"method": "sendMessage"},),
        error=Throttled,
        retry_after=7,
    ),
    OutgoingCase(
        "403 → ContactStopped",
        MSG,
        responses=(
            MockResponse(
                "sendMessage", error(403, "Forbidden: bot was blocked by the user"), status=403
            ),
        ),
        requests=({"method": "sendMessage"},),
        error=ContactStopped,
    ),
    OutgoingCase(
        "400 → PermanentFailure",
        MSG,
        responses=(
            MockResponse("sendMessage", error(400, "Bad Request: chat not found"), status=400),
        ),
        requests=({"method": "sendMessage"},),
        error=PermanentFailure,
    ),
    OutgoingCase(
        "500 → TemporaryFailure",
        MSG,
        responses=(MockResponse("sendMessage", error(500, "Internal Server Error"), status=500),),
        requests=({"method": "sendMessage"},),
        error=TemporaryFailure,
    ),
    OutgoingCase(
        "502 from a proxy → TemporaryFailure",
        MSG,
        responses=(MockResponse("sendMessage", error(502, "Bad Gateway"), status=502),),
        requests=({"method": "sendMessage"},),
        error=TemporaryFailure,
    ),
]


POLLING_CALLS = ("deleteWebhook", "getUpdates")


class TelegramHarness:
    name = "telegram"
    secret = TOKEN
    modes: tuple[str, ...] = ("webhook", "polling")

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)

    async def receive(
        self, case: IncomingCase, platform: MockPlatform, mode: str
    ) -> tuple[int, list[Inbound]]:
        if mode == "polling":
            return await self._poll(case, platform)
        bot = make_bot(TOKEN, platform.base_url, timeout=5)
        received: list[Inbound] = []

        async def apply(inbound: Inbound) -> None:
            received.append(inbound)

        receiver = TelegramReceiver(bot, apply, self.clock)
        client = TestClient(TestServer(receiver.webhook_app(SECRET), host="127.0.0.1"))
        await client.start_server()
        try:
            raw = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
            response = await client.post(
                "/telegram/webhook",
                data=raw,
                headers={"Content-Type": "application/json", **case.headers},
            )
            status = response.status
            response.release()
        finally:
            await client.close()
            await bot.session.close()
        return status, received

    async def _poll(self, case: IncomingCase, platform: MockPlatform) -> tuple[int, list[Inbound]]:
        """The update comes from getUpdates; the next getUpdates must confirm it (offset =
        update_id + 1) only after it was applied, and then the loop is stopped."""
        platform.queue[0:0] = [
            MockResponse("deleteWebhook", {"ok": True, "result": True}),
            MockResponse("getUpdates", {"ok": True, "result": [case.body]}),
            MockResponse("getUpdates", {"ok": True, "result": []}),
        ]
        bot = make_bot(TOKEN, platform.base_url, timeout=5)
        received: list[Inbound] = []
        applied_before_confirming: list[bool] = []
        stop = asyncio.Event()

        async def apply(inbound: Inbound) -> None:
            received.append(inbound)

        def seen(method: str) -> None:
            if method == "getUpdates" and self._polls(platform) == 2:
                applied_before_confirming.append(bool(received) or case.expect is None)
                stop.set()

        platform.on_request = seen
        receiver = TelegramReceiver(bot, apply, self.clock)
        try:
            await asyncio.wait_for(receiver.poll(poll_seconds=1, stop=stop), timeout=10)
        finally:
            await bot.session.close()
        polls = [r for r in platform.requests if r["method"] == "getUpdates"]
        assert str(polls[1]["offset"]) == str(case.body["update_id"] + 1)
        assert applied_before_confirming == [True]
        return 200, received

    @staticmethod
    def _polls(platform: MockPlatform) -> int:
        return sum(1 for r in platform.requests if r["method"] == "getUpdates")

    async def send(self, message: OutgoingMessage, platform: MockPlatform) -> SendResult:
        bot = make_bot(TOKEN, platform.base_url, timeout=5)
        try:
            return await TelegramChannel(bot).send(message)
        finally:
            await bot.session.close()

    def requests(self, platform: MockPlatform) -> list[dict[str, Any]]:
        """The channel's own calls; the polling plumbing is checked in ``_poll``."""
        return [r for r in platform.requests if r["method"] not in POLLING_CALLS]


@pytest.mark.parametrize(("case", "mode"), incoming_params(TelegramHarness.modes, INCOMING))
async def test_incoming(
    case: IncomingCase, mode: str, caplog: pytest.LogCaptureFixture, network_guard: NetworkGuard
) -> None:
    await run_incoming(TelegramHarness(), case, caplog, mode)


@pytest.mark.parametrize("case", outgoing_params(OUTGOING))
async def test_outgoing(
    case: OutgoingCase,
    caplog: pytest.LogCaptureFixture,
    network_guard: NetworkGuard,
    tmp_path: Path,
) -> None:
    await run_outgoing(TelegramHarness(), case, caplog, tmp_path)


async def test_the_guard_stops_a_request_to_the_real_telegram(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The runner's guard works: the production base URL is refused, and no token leaks."""
    guard = NetworkGuard()
    guard.install(monkeypatch)
    bot = make_bot(TOKEN, "https://api.telegram.org", timeout=5)
    try:
        with pytest.raises(TemporaryFailure) as caught:
            await TelegramChannel(bot).send(MSG)
    finally:
        await bot.session.close()
    assert guard.violations == ["lookup api.telegram.org"]
    assert TOKEN not in str(caught.value) and TOKEN not in caplog.text
