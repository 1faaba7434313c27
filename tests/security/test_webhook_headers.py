"""Issue 12: every webhook refuses an odd secret header with 401 and a body that is not JSON
with 400 — never a 500 (an error page, and a platform retrying for ever).

The requests are written byte by byte on a socket: an HTTP client would refuse to send a
header that is not valid UTF-8, but anyone on the Internet can.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp import web

from bot.channels.telegram import TelegramReceiver, make_bot
from bot.channels.zalo_bot import webhook as zalo_bot_webhook
from bot.channels.zalo_oa import webhook as zalo_oa_webhook
from handlers.types import Inbound
from kernel.clock import FixedClock

SECRET = "hook-secret_1234"
APP_ID = "4321098765432109876"
TOKEN = "42:HEADERS-token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _never(item: object) -> None:
    raise AssertionError(f"nothing may be applied or stored: {item!r}")


def telegram_handler() -> Handler:
    async def apply(inbound: Inbound) -> None:
        await _never(inbound)

    receiver = TelegramReceiver(make_bot(TOKEN, "http://127.0.0.1:9"), apply, FixedClock(NOW))
    return receiver.webhook_handler(SECRET)


NOW = datetime.now(UTC)
HANDLERS: dict[str, tuple[str, Callable[[], Handler]]] = {
    "telegram": ("X-Telegram-Bot-Api-Secret-Token", telegram_handler),
    "zalo-bot": (
        zalo_bot_webhook.SECRET_HEADER,
        lambda: zalo_bot_webhook.make_handler(_never, secret=SECRET),
    ),
    "zalo-oa": (
        "X-ZEvent-Signature",
        lambda: zalo_oa_webhook.make_handler(
            _never, app_id=APP_ID, secret_key=SECRET, clock=FixedClock(NOW)
        ),
    ),
}


@pytest.fixture(params=sorted(HANDLERS))
async def hook(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, int]]:
    header, make = HANDLERS[request.param]
    app = web.Application()
    app.router.add_post("/hook", make())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = int((getattr(server, "sockets", None) or [])[0].getsockname()[1])
    yield header, port
    await runner.cleanup()


async def post(port: int, header: str, value: bytes, body: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n".encode()
        + header.encode()
        + b": "
        + value
        + b"\r\n\r\n"
        + body
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


GOOD_BODY = json.dumps({"update_id": 1, "event_name": "user_send_text", "timestamp": "1"}).encode()


@pytest.mark.parametrize(
    "value",
    [
        "bí-mật-hook-secret".encode(),  # UTF-8, not ASCII
        SECRET.encode() + b"\xff\xfe",  # not UTF-8 at all
        b"\xc3\x28" * 8,  # an invalid UTF-8 sequence
    ],
    ids=["utf8", "latin1-bytes", "invalid-utf8"],
)
async def test_a_secret_header_that_is_not_ascii_is_401(
    hook: tuple[str, int], value: bytes
) -> None:
    header, port = hook
    assert await post(port, header, value, GOOD_BODY) == 401


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"update_id": 1,', b"\xff\xfe{}", b"[" * 50_000 + b"]" * 50_000],
    ids=["text", "cut-off", "not-utf8", "too-deep"],
)
async def test_the_right_secret_and_a_body_that_is_not_json_is_400(
    hook: tuple[str, int], body: bytes
) -> None:
    header, port = hook
    assert await post(port, header, SECRET.encode(), body) == 400
