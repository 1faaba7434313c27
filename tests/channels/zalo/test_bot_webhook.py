"""The Zalo Bot webhook: the secret is checked in constant time, the update is stored before
the 200, and a forged, oversized or non-JSON request stores nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_bot.webhook import SECRET_HEADER, check_request, make_handler
from tests.fakes.fake_zalo_bot import FakeZaloBot

SECRET = "zalo-hook-secret-42"
EVENT = {
    "event_name": "message.text.received",
    "message": {
        "from": {"id": "u1", "display_name": "Lan"},
        "chat": {"id": "u1", "chat_type": "PRIVATE"},
        "message_id": "m1",
        "date": 1782000000000,
        "text": "xong",
    },
}


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("headers", "raw", "status", "stored"),
    [
        ({SECRET_HEADER: SECRET}, body(EVENT), 200, EVENT),
        ({SECRET_HEADER: SECRET}, body({"ok": True, "result": EVENT}), 200, EVENT),
        ({}, body(EVENT), 401, None),
        ({SECRET_HEADER: "wrong-secret-00"}, body(EVENT), 403, None),
        ({SECRET_HEADER: SECRET + "x"}, body(EVENT), 403, None),
        ({SECRET_HEADER: ""}, body(EVENT), 403, None),
        ({SECRET_HEADER: "bí-mật-" + SECRET}, body(EVENT), 401, None),  # cannot be a secret
        ({SECRET_HEADER: SECRET + "\udcff"}, body(EVENT), 401, None),  # a byte not UTF-8
        ({SECRET_HEADER: SECRET}, b"\xff\xfe{}", 400, None),
        ({SECRET_HEADER: SECRET}, b"[" * 1000 + b"]" * 1000, 400, None),  # nested too deep
        ({SECRET_HEADER: SECRET}, b"not json", 400, None),
        ({SECRET_HEADER: SECRET}, body([1, 2]), 400, None),
        ({SECRET_HEADER: SECRET}, body({"hello": 1}), 200, None),
        ({SECRET_HEADER: SECRET}, b"{" + b" " * 5000 + b"}", 413, None),
    ],
)
def test_check_request(
    headers: dict[str, str], raw: bytes, status: int, stored: dict[str, Any] | None
) -> None:
    assert check_request(headers, raw, secret=SECRET, max_body_bytes=4096) == (status, stored)


class Hook:
    """A real aiohttp server with the handler; ``stored`` is what reached the store."""

    def __init__(self, *, fail: bool = False) -> None:
        self.stored: list[dict[str, Any]] = []
        self.fail = fail
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def store(self, event: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("database is down")
        self.stored.append(event)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(
            "/zalo/webhook", make_handler(self.store, secret=SECRET, max_body_bytes=4096)
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = int((getattr(server, "sockets", None) or [])[0].getsockname()[1])
        self.url = f"http://127.0.0.1:{port}/zalo/webhook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    server = Hook()
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("shape", ["wrapped", "flat"])
async def test_the_fake_delivers_and_the_update_is_stored_before_200(
    hook: Hook, fake_bot: FakeZaloBot, bot_client: ZaloBotClient, shape: Any
) -> None:
    fake_bot.webhook_shape = shape
    await bot_client.set_webhook(hook.url, SECRET)
    message_id = await fake_bot.inject_message("u9", "50% đang họp dân")
    assert fake_bot.deliveries == [200]
    assert [event["message"]["message_id"] for event in hook.stored] == [message_id]
    assert fake_bot.pending == []


async def test_a_forged_secret_stores_nothing(
    hook: Hook, fake_bot: FakeZaloBot, bot_client: ZaloBotClient, http: httpx.AsyncClient
) -> None:
    await bot_client.set_webhook(hook.url, SECRET)
    fake_bot.webhook = {"url": hook.url, "secret_token": "forged-secret-1"}
    await fake_bot.inject_message("u9", "xong")
    assert fake_bot.deliveries == [403]
    missing = await http.post(hook.url, json=EVENT)
    assert missing.status_code == 401
    too_big = await http.post(
        hook.url, content=b"{" + b" " * 5000 + b"}", headers={SECRET_HEADER: SECRET}
    )
    assert too_big.status_code == 413
    assert hook.stored == []


async def test_a_store_failure_answers_500(http: httpx.AsyncClient) -> None:
    failing = Hook(fail=True)
    await failing.start()
    try:
        response = await http.post(failing.url, json=EVENT, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 500
    finally:
        await failing.stop()


def test_the_handler_refuses_a_short_secret_at_start_up() -> None:
    async def store(event: dict[str, Any]) -> None:
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="8-256"):
        make_handler(store, secret="short")
