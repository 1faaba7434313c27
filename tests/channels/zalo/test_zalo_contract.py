"""Zalo Bot's and Zalo OA's tables for the shared channel contract runner.

The harnesses wire the pieces as the registry will: webhook handler → store → parse →
``Inbound`` (an unsupported message gets the "please type text" answer), and the channel
adapters' ``send`` for the outbox.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.base import (
    ContactStopped,
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    Throttled,
)
from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_bot.updates import AskForText, ask_for_text_message, parse_update
from bot.channels.zalo_bot.webhook import make_handler
from bot.channels.zalo_oa import webhook as oa_webhook
from bot.channels.zalo_oa.channel import ZaloOAChannel
from bot.channels.zalo_oa.client import ZaloOAClient
from bot.channels.zalo_oa.events import parse_event
from bot.channels.zalo_oa.signature import expected_signature
from handlers.types import Attachment, Button, Inbound
from kernel.clock import FixedClock
from kernel.i18n import use_locale
from tests.channels.contract import (
    IncomingCase,
    MockPlatform,
    MockResponse,
    OutgoingCase,
    run_incoming,
    run_outgoing,
)

TOKEN = "2000:CONTRACT-zalo-bot-token-never-logged"
SECRET = "zalo-contract-secret"
GOOD = {"X-Bot-Api-Secret-Token": SECRET}
NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)
SENT_MS = 1782093600000  # 2026-06-22 02:00 UTC
BUTTONS = ((Button("Hoàn thành", "a:12:done"), Button("Vướng mắc", "a:12:blocked")),)
with use_locale("vi"):
    ASK_VI = ask_for_text_message()


def zmsg(**extra: Any) -> dict[str, Any]:
    return {
        "from": {"id": "u7", "display_name": "Lê Văn Bình", "is_bot": False},
        "chat": {"id": "u7", "chat_type": "PRIVATE"},
        "message_id": "mid-1",
        "date": SENT_MS,
        **extra,
    }


def wrapped(event_name: str, message: dict[str, Any] | None) -> dict[str, Any]:
    event: dict[str, Any] = {"event_name": event_name}
    if message is not None:
        event["message"] = message
    return {"ok": True, "result": event}


def zok(message_id: str) -> dict[str, Any]:
    return {"ok": True, "result": {"message_id": message_id, "date": SENT_MS}}


def zerr(code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": code, "description": description}


BOT_INCOMING = [
    IncomingCase(
        "wrapped text, NFC-normalised",
        wrapped("message.text.received", zmsg(text="Hoa\u0300n tha\u0300nh")),
        headers=GOOD,
        expect={
            "text": "Hoàn thành",
            "external_user_id": "u7",
            "chat_id": "u7",
            "message_id": "mid-1",
            "update_key": "mid-1",
            "display_name": "Lê Văn Bình",
            "received_at": NOW,
        },
    ),
    IncomingCase(
        "flat body",
        {"event_name": "message.text.received", "message": zmsg(text="xong")},
        headers=GOOD,
        expect={"text": "xong", "update_key": "mid-1"},
    ),
    IncomingCase(
        "first_name and a date in seconds",
        wrapped(
            "message.text.received",
            zmsg(text="50%", date=SENT_MS // 1000, **{"from": {"id": "u7", "first_name": "Bình"}}),
        ),
        headers=GOOD,
        expect={"display_name": "Bình", "received_at": NOW},
    ),
    IncomingCase(
        "photo_url with caption",
        wrapped(
            "message.image.received", zmsg(photo_url="https://cdn.example/p.jpg", caption="Ảnh")
        ),
        headers=GOOD,
        expect={
            "text": "Ảnh",
            "attachments": (Attachment(kind="photo", file_id="https://cdn.example/p.jpg"),),
        },
    ),
    IncomingCase(
        "photo (the docs' key)",
        wrapped("message.image.received", zmsg(photo="https://cdn.example/q.jpg")),
        headers=GOOD,
        expect={"attachments": (Attachment(kind="photo", file_id="https://cdn.example/q.jpg"),)},
    ),
    IncomingCase(
        "unsupported: the sender is asked to type text",
        wrapped("message.unsupported.received", zmsg()),
        headers=GOOD,
        responses=(MockResponse("sendMessage", zok("s1")),),
        requests=({"method": "sendMessage", "chat_id": "u7", "text": ASK_VI},),
    ),
    IncomingCase(
        "unsupported without a message: nothing to answer, no crash",
        wrapped("message.unsupported.received", None),
        headers=GOOD,
    ),
    IncomingCase("a missing secret", wrapped("message.text.received", zmsg(text="x")), status=401),
    IncomingCase(
        "a forged secret",
        wrapped("message.text.received", zmsg(text="x")),
        status=403,
        headers={"X-Bot-Api-Secret-Token": "forged-secret-1"},
    ),
    IncomingCase("not JSON", b"<xml/>", status=400, headers=GOOD),
    IncomingCase(
        "a bot's own message",
        wrapped("message.text.received", zmsg(text="x", **{"from": {"id": "b", "is_bot": True}})),
        headers=GOOD,
    ),
]

BOT_OUTGOING = [
    OutgoingCase(
        "plain text",
        OutgoingMessage(chat_id="u7", text="Xin chào"),
        responses=(MockResponse("sendMessage", zok("s42")),),
        requests=({"method": "sendMessage", "chat_id": "u7", "text": "Xin chào"},),
        external_id="s42",
    ),
    OutgoingCase(
        "buttons become a numbered menu",
        OutgoingMessage(chat_id="u7", text="Nhiệm vụ 12", buttons=BUTTONS),
        responses=(MockResponse("sendMessage", zok("s43")),),
        requests=({"method": "sendMessage", "text": "Nhiệm vụ 12\n\n1. Hoàn thành\n2. Vướng mắc"},),
        external_id="s43",
    ),
    OutgoingCase(
        "an edit is a new message",
        OutgoingMessage(chat_id="u7", text="Trang 2", edit_message_id="s40"),
        responses=(MockResponse("sendMessage", zok("s44")),),
        requests=({"method": "sendMessage", "text": "Trang 2"},),
        external_id="s44",
    ),
    OutgoingCase(
        "over 2000 characters: split at the line break",
        OutgoingMessage(chat_id="u7", text="a" * 1500 + "\n" + "b" * 1500),
        responses=(
            MockResponse("sendMessage", zok("s45")),
            MockResponse("sendMessage", zok("s46")),
        ),
        requests=(
            {"method": "sendMessage", "text": "a" * 1500},
            {"method": "sendMessage", "text": "b" * 1500},
        ),
        external_id="s46",
    ),
    OutgoingCase(
        "429 is the monthly quota: a long backoff",
        OutgoingMessage(chat_id="u7", text="x"),
        responses=(MockResponse("sendMessage", zerr(429, "Quota exceeded"), status=429),),
        requests=({"method": "sendMessage"},),
        error=Throttled,
        retry_after=3600,
    ),
    OutgoingCase(
        "403 is a server error, never 'contact stopped'",
        OutgoingMessage(chat_id="u7", text="x"),
        responses=(MockResponse("sendMessage", zerr(403, "Internal server error"), status=403),),
        requests=({"method": "sendMessage"},),
        error=TemporaryFailure,
    ),
    OutgoingCase(
        "400 is permanent",
        OutgoingMessage(chat_id="u7", text="x"),
        responses=(MockResponse("sendMessage", zerr(400, "Bad request"), status=400),),
        requests=({"method": "sendMessage"},),
        error=PermanentFailure,
    ),
    OutgoingCase(
        "401 keeps the message: the channel stops, the admin is told",
        OutgoingMessage(chat_id="u7", text="x"),
        responses=(MockResponse("sendMessage", zerr(401, "Unauthorized"), status=401),),
        requests=({"method": "sendMessage"},),
        error=TemporaryFailure,
    ),
    OutgoingCase(
        "a chart goes by URL, then the text",
        OutgoingMessage(chat_id="u7", text="Biểu đồ", file_path="chart.png", file_name="chart.png"),
        responses=(MockResponse("sendPhoto", zok("p1")), MockResponse("sendMessage", zok("s47"))),
        requests=(
            {"method": "sendPhoto", "photo": "https://papi.example/f/chart.png"},
            {"method": "sendMessage", "text": "Biểu đồ"},
        ),
        external_id="s47",
        files={"chart.png": b"\x89PNG\r\n\x1a\n"},
    ),
    OutgoingCase(
        "a photo without text is the photo alone",
        OutgoingMessage(chat_id="u7", text="", file_path="p.jpg", file_name="p.jpg"),
        responses=(MockResponse("sendPhoto", zok("p2")),),
        requests=({"method": "sendPhoto", "photo": "https://papi.example/f/p.jpg"},),
        external_id="p2",
        files={"p.jpg": b"\xff\xd8\xff"},
    ),
    OutgoingCase(
        "a report file goes as a link",
        OutgoingMessage(chat_id="u7", text="Báo cáo quý", file_path="q2.xlsx", file_name="q2.xlsx"),
        responses=(MockResponse("sendMessage", zok("s48")),),
        requests=(
            {
                "method": "sendMessage",
                "text": "Báo cáo quý\n\nq2.xlsx: https://papi.example/f/q2.xlsx",
            },
        ),
        external_id="s48",
        files={"q2.xlsx": b"PK"},
    ),
]


def file_url(path: str, name: str) -> str:
    return f"https://papi.example/f/{name}"


async def _post(app: web.Application, path: str, body: Any, headers: dict[str, str]) -> int:
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        if isinstance(body, bytes):
            response = await client.post(path, data=body, headers=headers)
        else:
            response = await client.post(path, data=json.dumps(body).encode(), headers=headers)
        status = response.status
        response.release()
    finally:
        await client.close()
    return status


class ZaloBotHarness:
    name = "zalo"
    secret = TOKEN
    modes: tuple[str, ...] = ("webhook",)  # production mode; polling has its own tests

    async def receive(
        self, case: IncomingCase, platform: MockPlatform, mode: str
    ) -> tuple[int, list[Inbound]]:
        received: list[Inbound] = []
        async with httpx.AsyncClient() as http:
            client = ZaloBotClient(token=TOKEN, http=http, api_base=platform.base_url)

            async def store(event: dict[str, Any]) -> None:  # the registry: store, then process
                parsed = parse_update(event, NOW)
                if isinstance(parsed, Inbound):
                    received.append(parsed)
                elif isinstance(parsed, AskForText) and parsed.chat_id is not None:
                    with use_locale("vi"):
                        await client.send_text(parsed.chat_id, ask_for_text_message())

            app = web.Application()
            app.router.add_post("/zalo/webhook", make_handler(store, secret=SECRET))
            status = await _post(app, "/zalo/webhook", case.body, dict(case.headers))
        return status, received

    async def send(self, message: OutgoingMessage, platform: MockPlatform) -> SendResult:
        async with httpx.AsyncClient() as http:
            client = ZaloBotClient(
                token=TOKEN, http=http, api_base=platform.base_url, quota_backoff_seconds=3600
            )
            return await ZaloBotChannel(client, file_url=file_url).send(message)

    def requests(self, platform: MockPlatform) -> list[dict[str, Any]]:
        return platform.requests


# --- Zalo OA ----------------------------------------------------------------------------------

APP_ID = "4321098765432109876"
OA_KEY = "oa-contract-key"
ACCESS = "CONTRACT-oa-access-token-never-logged"
OA_USER = "8412345678901234567"
OA_NOW = datetime.fromtimestamp(SENT_MS / 1000, UTC)


def oa_event(name: str, message: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "app_id": APP_ID,
        "event_name": name,
        "sender": {"id": OA_USER},
        "recipient": {"id": "579745863508352884"},
        "timestamp": str(SENT_MS),
        **extra,
    }
    if message is not None:
        event["message"] = message
    return event


SIGNED = {"X-Test-Sign": "good"}

OA_INCOMING = [
    IncomingCase(
        "text",
        oa_event("user_send_text", {"text": "xong", "msg_id": "abc123"}),
        headers=SIGNED,
        expect={
            "text": "xong",
            "external_user_id": OA_USER,
            "chat_id": OA_USER,
            "update_key": "abc123",
            "received_at": OA_NOW,
        },
    ),
    IncomingCase(
        "a button press arrives as a prefixed text",
        oa_event("user_send_text", {"text": "#papi:a:12:done", "msg_id": "abc124"}),
        headers={"X-Test-Sign": "mac"},
        expect={"payload": "a:12:done", "text": None},
    ),
    IncomingCase(
        "image",
        oa_event(
            "user_send_image",
            {
                "msg_id": "abc125",
                "attachments": [
                    {
                        "type": "image",
                        "payload": {"url": "https://cdn.example/i.jpg", "thumbnail": ""},
                    }
                ],
            },
        ),
        headers=SIGNED,
        expect={"attachments": (Attachment(kind="photo", file_id="https://cdn.example/i.jpg"),)},
    ),
    IncomingCase(
        "a forged signature",
        oa_event("user_send_text", {"text": "x", "msg_id": "f1"}),
        status=401,
        headers={"X-Test-Sign": "forged"},
    ),
    IncomingCase(
        "no signature", oa_event("user_send_text", {"text": "x", "msg_id": "f2"}), status=401
    ),
    IncomingCase(
        "follow is not a message", oa_event("follow", follower={"id": OA_USER}), headers=SIGNED
    ),
]


def oa_ok(message_id: str = "oa1") -> dict[str, Any]:
    return {
        "error": 0,
        "message": "Success",
        "data": {"message_id": message_id, "user_id": OA_USER},
    }


def oa_err(code: int) -> dict[str, Any]:
    return {"error": code, "message": "injected"}


OA_OUTGOING = [
    OutgoingCase(
        "text",
        OutgoingMessage(chat_id=OA_USER, text="Xin chào"),
        responses=(MockResponse("cs", oa_ok("oa1")),),
        requests=(
            {"method": "cs", "recipient": {"user_id": OA_USER}, "message": {"text": "Xin chào"}},
        ),
        external_id="oa1",
    ),
    OutgoingCase(
        "real buttons",
        OutgoingMessage(chat_id=OA_USER, text="Nhiệm vụ 12", buttons=BUTTONS),
        responses=(MockResponse("cs", oa_ok("oa2")),),
        requests=(
            {
                "method": "cs",
                "message": {
                    "attachment": {
                        "type": "template",
                        "payload": {"template_type": "button", "text": "Nhiệm vụ 12"},
                    }
                },
            },
        ),
        external_id="oa2",
    ),
    OutgoingCase(
        "buttons refused by the OA: the numbered menu",
        OutgoingMessage(chat_id=OA_USER, text="Nhiệm vụ 12", buttons=BUTTONS),
        responses=(MockResponse("cs", oa_err(-240)), MockResponse("cs", oa_ok("oa3"))),
        requests=(
            {"method": "cs"},
            {"method": "cs", "message": {"text": "Nhiệm vụ 12\n\n1. Hoàn thành\n2. Vướng mắc"}},
        ),
        external_id="oa3",
    ),
    OutgoingCase(
        "-230: outside the interaction window",
        OutgoingMessage(chat_id=OA_USER, text="Nhắc việc"),
        responses=(MockResponse("cs", oa_err(-230)),),
        requests=({"method": "cs"},),
        error=ContactStopped,
    ),
    OutgoingCase(
        "-32: rate limited",
        OutgoingMessage(chat_id=OA_USER, text="x"),
        responses=(MockResponse("cs", oa_err(-32)),),
        requests=({"method": "cs"},),
        error=Throttled,
        retry_after=60,
    ),
    OutgoingCase(
        "HTTP 502 is temporary",
        OutgoingMessage(chat_id=OA_USER, text="x"),
        responses=(MockResponse("cs", {"error": 0}, status=502),),
        requests=({"method": "cs"},),
        error=TemporaryFailure,
    ),
    OutgoingCase(
        "an image is uploaded, then sent, then the text",
        OutgoingMessage(chat_id=OA_USER, text="Biểu đồ", file_path="c.png", file_name="c.png"),
        responses=(
            MockResponse("image", {"error": 0, "data": {"attachment_id": "att9"}}),
            MockResponse("cs", oa_ok("oa4")),
            MockResponse("cs", oa_ok("oa5")),
        ),
        requests=(
            {"method": "image", "file": {"file_name": "c.png"}},
            {"method": "cs", "message": {"attachment": {"payload": {"template_type": "media"}}}},
            {"method": "cs", "message": {"text": "Biểu đồ"}},
        ),
        external_id="oa5",
        files={"c.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 16},
    ),
    OutgoingCase(
        "an image without text is the image alone",
        OutgoingMessage(chat_id=OA_USER, text="", file_path="d.jpg", file_name="d.jpg"),
        responses=(
            MockResponse("image", {"error": 0, "data": {"attachment_id": "att8"}}),
            MockResponse("cs", oa_ok("oa6")),
        ),
        requests=({"method": "image"}, {"method": "cs"}),
        external_id="oa6",
        files={"d.jpg": b"\xff\xd8\xff\xe0" + b"\0" * 16},
    ),
    OutgoingCase(
        "a document without a public link is a clear permanent failure",
        OutgoingMessage(chat_id=OA_USER, text="Báo cáo", file_path="q.docx", file_name="q.docx"),
        error=PermanentFailure,
        files={"q.docx": b"PK"},
    ),
]


class StaticTokens:
    async def access_token(self) -> str:
        return ACCESS

    async def refresh(self, generation: int | None = None) -> object:
        return None


class ZaloOAHarness:
    name = "zalo_oa"
    secret = ACCESS
    modes: tuple[str, ...] = ("webhook",)  # production mode; polling has its own tests

    async def receive(
        self, case: IncomingCase, platform: MockPlatform, mode: str
    ) -> tuple[int, list[Inbound]]:
        received: list[Inbound] = []

        async def store(event: dict[str, Any]) -> None:
            parsed = parse_event(event, NOW)
            if isinstance(parsed, Inbound):
                received.append(parsed)

        body = json.dumps(case.body).encode()
        headers = {"Content-Type": "application/json"}
        signing = case.headers.get("X-Test-Sign")
        if signing is not None:
            key = OA_KEY if signing != "forged" else OA_KEY + "x"
            mac = expected_signature(APP_ID, body, str(case.body["timestamp"]), key)
            headers["X-ZEvent-Signature"] = f"mac={mac}" if signing == "mac" else mac
        app = web.Application()
        handler = oa_webhook.make_handler(
            store, app_id=APP_ID, secret_key=OA_KEY, clock=FixedClock(OA_NOW)
        )
        app.router.add_post("/zalo-oa/webhook", handler)
        return await _post(app, "/zalo-oa/webhook", body, headers), received

    async def send(self, message: OutgoingMessage, platform: MockPlatform) -> SendResult:
        async with httpx.AsyncClient() as http:
            client = ZaloOAClient(http=http, tokens=StaticTokens(), api_base=platform.base_url)
            return await ZaloOAChannel(client).send(message)

    def requests(self, platform: MockPlatform) -> list[dict[str, Any]]:
        return platform.requests


@pytest.mark.parametrize("case", BOT_INCOMING, ids=[case.label for case in BOT_INCOMING])
async def test_bot_incoming(case: IncomingCase, caplog: pytest.LogCaptureFixture) -> None:
    await run_incoming(ZaloBotHarness(), case, caplog)


@pytest.mark.parametrize("case", BOT_OUTGOING, ids=[case.label for case in BOT_OUTGOING])
async def test_bot_outgoing(
    case: OutgoingCase, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    await run_outgoing(ZaloBotHarness(), case, caplog, tmp_path)


@pytest.mark.parametrize("case", OA_INCOMING, ids=[case.label for case in OA_INCOMING])
async def test_oa_incoming(case: IncomingCase, caplog: pytest.LogCaptureFixture) -> None:
    await run_incoming(ZaloOAHarness(), case, caplog)


@pytest.mark.parametrize("case", OA_OUTGOING, ids=[case.label for case in OA_OUTGOING])
async def test_oa_outgoing(
    case: OutgoingCase, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    await run_outgoing(ZaloOAHarness(), case, caplog, tmp_path)
