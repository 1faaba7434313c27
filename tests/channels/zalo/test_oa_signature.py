"""The OA webhook signature and the event check: plain SHA-256 of app_id + body + timestamp +
OA secret key, with or without "mac=", ~2 h of clock slack; a forged request stores nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientSession, web

from bot.channels.zalo_oa.signature import expected_signature, signature_matches, timestamp_fresh
from bot.channels.zalo_oa.webhook import check_request, make_handler
from kernel.clock import FixedClock
from tests.fakes.fake_zalo_oa import FakeZaloOA

APP_ID = "4321098765432109876"
KEY = "oa-webhook-secret-key"
NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)


def ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def signed(
    event: dict[str, Any], *, key: str = KEY, prefix: str = ""
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    mac = hashlib.sha256(f"{APP_ID}{body.decode()}{event['timestamp']}{key}".encode()).hexdigest()
    return body, {"X-ZEvent-Signature": prefix + mac}


def event(at: datetime = NOW) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "event_name": "user_send_text",
        "sender": {"id": "8412345678901234567"},
        "recipient": {"id": "579745863508352884"},
        "message": {"text": "xong", "msg_id": "a1b2"},
        "timestamp": ms(at),
    }


def test_plain_sha256_not_hmac() -> None:
    body = b'{"a":1}'
    want = hashlib.sha256(b"app" + body + b"123" + b"key").hexdigest()
    assert expected_signature("app", body, "123", "key") == want
    assert expected_signature("app", body, "123", "key") != expected_signature(
        "key", body, "123", "app"
    )


@pytest.mark.parametrize("prefix", ["", "mac=", "MAC="])
def test_the_header_with_or_without_mac(prefix: str) -> None:
    body, headers = signed(event(), prefix=prefix)
    assert signature_matches(
        headers["X-ZEvent-Signature"],
        app_id=APP_ID,
        raw_body=body,
        timestamp=ms(NOW),
        secret_key=KEY,
    )
    upper = headers["X-ZEvent-Signature"].upper()
    assert signature_matches(upper, app_id=APP_ID, raw_body=body, timestamp=ms(NOW), secret_key=KEY)


def test_a_tampered_body_or_wrong_key_fails() -> None:
    body, headers = signed(event())
    mac = headers["X-ZEvent-Signature"]
    common = {"app_id": APP_ID, "timestamp": ms(NOW)}
    assert not signature_matches(mac, raw_body=body + b" ", secret_key=KEY, **common)
    assert not signature_matches(mac, raw_body=body, secret_key=KEY + "x", **common)
    assert not signature_matches(mac, raw_body=body, secret_key="", **common)
    assert not signature_matches(None, raw_body=body, secret_key=KEY, **common)
    assert not signature_matches(
        mac, raw_body=body, secret_key=KEY, app_id="other", timestamp=ms(NOW)
    )


@pytest.mark.parametrize(
    ("age", "slack", "fresh"),
    [
        (timedelta(0), 7200, True),
        (timedelta(hours=1, minutes=51), 7200, True),  # the last retry, original timestamp
        (timedelta(hours=2, minutes=1), 7200, False),
        (timedelta(minutes=-30), 7200, True),  # a clock a little ahead
        (timedelta(hours=-3), 7200, False),
        (timedelta(minutes=10), 300, False),  # a stricter setting
    ],
)
def test_clock_slack(age: timedelta, slack: int, fresh: bool) -> None:
    assert timestamp_fresh(ms(NOW - age), NOW, slack) is fresh


def check(body: bytes, headers: dict[str, str], **kwargs: Any) -> tuple[int, Any]:
    options: dict[str, Any] = {
        "app_id": APP_ID,
        "secret_key": KEY,
        "now": NOW,
        "max_body_bytes": 4096,
    }
    options.update(kwargs)
    return check_request(headers, body, **options)


def test_check_request_table() -> None:
    good = event()
    body, headers = signed(good)
    assert check(body, headers) == (200, good)
    assert check(*signed(good, prefix="mac=")) == (200, good)
    assert check(body, {})[0] == 401
    assert check(*signed(good, key="forged"))[0] == 401
    old_body, old_headers = signed(event(NOW - timedelta(hours=3)))
    assert check(old_body, old_headers)[0] == 401  # correctly signed but too old: a replay
    assert check(old_body, old_headers, slack_seconds=4 * 3600)[0] == 200
    assert check(b"not json", headers)[0] == 400
    assert check(b"\xff\xfe{}", headers)[0] == 400
    assert check(b"[" * 2000 + b"]" * 2000, headers)[0] == 400  # nested too deep
    assert check(body, {"X-ZEvent-Signature": "mac=bí-mật"})[0] == 401
    assert check(body, {"X-ZEvent-Signature": "\udcff" + headers["X-ZEvent-Signature"]})[0] == 401
    assert check(b"x" * 5000, headers)[0] == 413


class Hook:
    def __init__(self, clock: FixedClock) -> None:
        self.stored: list[dict[str, Any]] = []
        self.clock = clock
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def store(self, item: dict[str, Any]) -> None:
        self.stored.append(item)

    async def start(self, fake: FakeZaloOA) -> None:
        app = web.Application()
        handler = make_handler(
            self.store, app_id=fake.app_id, secret_key=fake.secret_key, clock=self.clock
        )
        app.router.add_post("/zalo-oa/webhook", handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = int((getattr(server, "sockets", None) or [])[0].getsockname()[1])
        self.url = f"http://127.0.0.1:{port}/zalo-oa/webhook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def hook(fake_oa: FakeZaloOA) -> AsyncIterator[Hook]:
    server = Hook(FixedClock(datetime.now(UTC)))
    await server.start(fake_oa)
    yield server
    await server.stop()


async def test_signed_events_from_the_fake_are_stored_forged_ones_not(
    hook: Hook, fake_oa: FakeZaloOA
) -> None:
    text = fake_oa.text_event("8412345678901234567", "xong")
    assert await fake_oa.deliver(hook.url, text) == 200
    assert await fake_oa.deliver(hook.url, fake_oa.image_event("84123"), mac_prefix=True) == 200
    assert await fake_oa.deliver(hook.url, fake_oa.text_event("84123", "giả"), forge=True) == 401
    assert [item["event_name"] for item in hook.stored] == ["user_send_text", "user_send_image"]
    assert hook.stored[0] == text


def test_the_handler_needs_both_keys() -> None:
    async def store(item: dict[str, Any]) -> None:
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="ZALO_OA_SECRET_KEY"):
        make_handler(store, app_id=APP_ID, secret_key="", clock=FixedClock(NOW))


async def test_a_large_signed_event_is_read_whole(hook: Hook, fake_oa: FakeZaloOA) -> None:
    """The body arrives in several chunks; the signature covers all of it."""
    event = fake_oa.text_event("84123", "x" * 60_000 + " xong " + "y" * 60_000)
    assert await fake_oa.deliver(hook.url, event) == 200
    assert hook.stored == [event]


async def test_a_slowly_sent_event_is_read_whole(hook: Hook, fake_oa: FakeZaloOA) -> None:
    """A body that trickles in (chunked, with pauses) is still read to its end."""
    event = fake_oa.text_event("84123", "chậm " * 2000)
    body, headers = fake_oa.signed(event)

    async def trickle() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]
            await asyncio.sleep(0.01)

    async with (
        ClientSession() as session,
        session.post(hook.url, data=trickle(), headers=headers) as response,
    ):
        assert response.status == 200
    assert hook.stored == [event]
