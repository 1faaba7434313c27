"""The OA client against the fake: text, real buttons and the numbered fallback (both ways of
the unconfirmed button setting), images by upload, −230/−232 unreachable, the error map."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.channels.base import ContactStopped, PermanentFailure, TemporaryFailure, Throttled
from bot.channels.zalo_bot.media import image_type
from bot.channels.zalo_bot.text import numbered_menu
from bot.channels.zalo_oa.client import ZaloOAClient
from bot.channels.zalo_oa.errors import (
    OAError,
    OAPermanentError,
    OAReauthorizationNeeded,
    OAServerError,
    OAThrottled,
    OATokenInvalid,
    OAUnreachable,
    error_for,
)
from bot.channels.zalo_oa.neutral import to_send_error
from bot.channels.zalo_oa.tokens import OATokenManager
from handlers.types import Button
from kernel.clock import FixedClock
from tests.channels.zalo.conftest import store_pair
from tests.fakes.fake_zalo_oa import FakeZaloOA

MENU = ((Button("Xong", "done:12"), Button("Vướng", "blocked:12")),)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(autouse=True)
def _authorised(engine: Engine, fake_oa: FakeZaloOA, clock: FixedClock) -> None:
    store_pair(engine, fake_oa, clock, hours=20)


async def test_text_is_split_at_2000(oa_client: ZaloOAClient, fake_oa: FakeZaloOA) -> None:
    text = "\n".join(f"{n}. " + "nhiệm vụ " * 20 for n in range(30)).replace(" \n", "\n").strip()
    ids = await oa_client.send_text("8412345678901234567", text)
    assert len(ids) == len(fake_oa.sent) > 1
    assert all(len(s.text or "") <= 2000 for s in fake_oa.sent)
    assert fake_oa.sent[0].user_id == "8412345678901234567"


async def test_buttons_go_out_as_a_template_with_prefixed_payloads(
    oa_client: ZaloOAClient, fake_oa: FakeZaloOA
) -> None:
    await oa_client.send("u1", "Nhiệm vụ 12: cập nhật?", MENU)
    (sent,) = fake_oa.sent
    assert sent.kind == "buttons" and sent.text == "Nhiệm vụ 12: cập nhật?"
    assert sent.buttons == [
        {"title": "Xong", "type": "oa.query.hide", "payload": "#papi:done:12"},
        {"title": "Vướng", "type": "oa.query.hide", "payload": "#papi:blocked:12"},
    ]


@pytest.mark.parametrize("reason", ["disabled", "refused", "too_many"])
async def test_the_numbered_fallback(
    http: httpx.AsyncClient, manager: OATokenManager, fake_oa: FakeZaloOA, reason: str
) -> None:
    client = ZaloOAClient(
        http=http,
        tokens=manager,
        api_base=fake_oa.base_url,
        buttons_enabled=reason != "disabled",
        max_buttons=1 if reason == "too_many" else 5,
    )
    fake_oa.template_refused = reason == "refused"
    await client.send("u1", "Chọn:", MENU)
    assert [s.kind for s in fake_oa.sent] == ["text"]
    assert fake_oa.sent[0].text == "Chọn:\n\n1. Xong\n2. Vướng" == numbered_menu("Chọn:", MENU[0])


@pytest.mark.parametrize("code", [-230, -232])
async def test_outside_the_interaction_window(
    oa_client: ZaloOAClient, fake_oa: FakeZaloOA, code: int
) -> None:
    fake_oa.outside_window("u9", code)
    with pytest.raises(OAUnreachable) as caught:
        await oa_client.send_text("u9", "Nhắc việc")
    assert caught.value.outside_window and caught.value.code == code
    assert isinstance(to_send_error(caught.value), ContactStopped)
    assert fake_oa.sent == []


async def test_a_refused_token_is_refreshed_once(
    oa_client: ZaloOAClient, fake_oa: FakeZaloOA
) -> None:
    fake_oa.expire_access()
    await oa_client.send_text("u1", "xin chào")
    assert len(fake_oa.refreshes) == 1 and len(fake_oa.sent) == 1
    fake_oa.fail_next("/v3.0/oa/message/cs", -216)
    fake_oa.fail_next("/v3.0/oa/message/cs", -216)
    with pytest.raises(OATokenInvalid):  # refused again after a refresh: give up
        await oa_client.send_text("u1", "lần hai")


async def test_images_by_upload(
    oa_client: ZaloOAClient, fake_oa: FakeZaloOA, tmp_path: Path
) -> None:
    photo = tmp_path / "bieu-do.png"
    photo.write_bytes(PNG)
    attachment_id = await oa_client.upload_image(photo)
    assert fake_oa.uploads[attachment_id] == len(PNG)
    await oa_client.send_image("u1", attachment_id, "Biểu đồ tiến độ")
    assert fake_oa.sent[-1].kind == "image" and fake_oa.sent[-1].attachment_id == attachment_id
    fake_path = tmp_path / "not-really.png"
    fake_path.write_bytes(b"%PDF-1.7")
    with pytest.raises(OAPermanentError):
        await oa_client.upload_image(fake_path)
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\0" * (1024 * 1024))
    with pytest.raises(OAPermanentError):
        await oa_client.upload_image(big)
    assert len(fake_oa.uploads) == 1


def test_image_type_sniffing() -> None:
    assert image_type(PNG) == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert image_type(b"GIF89a...") == "image/gif"
    assert image_type(b"<svg") is None


async def test_user_name(oa_client: ZaloOAClient) -> None:
    assert await oa_client.user_name("8412345678901234567") == "Người dùng 4567"


async def test_server_errors_are_temporary(oa_client: ZaloOAClient, fake_oa: FakeZaloOA) -> None:
    fake_oa.fail_next("/v3.0/oa/message/cs", 502)
    with pytest.raises(OAServerError):
        await oa_client.send_text("u1", "x")


@pytest.mark.parametrize(
    ("code", "kind", "neutral"),
    [
        (-230, OAUnreachable, ContactStopped),
        (-232, OAUnreachable, ContactStopped),
        (-213, OAUnreachable, ContactStopped),
        (-227, OAUnreachable, ContactStopped),
        (-244, OAUnreachable, ContactStopped),
        (-216, OATokenInvalid, TemporaryFailure),
        (-220, OATokenInvalid, TemporaryFailure),
        (-32, OAThrottled, Throttled),
        (-201, OAPermanentError, PermanentFailure),
    ],
)
def test_the_error_map(code: int, kind: type[OAError], neutral: type[Exception]) -> None:
    error = error_for(code, "m")
    assert type(error) is kind
    assert isinstance(to_send_error(error), neutral)
    if isinstance(error, OAUnreachable):
        assert error.outside_window is (code in (-230, -232))


def test_reauthorisation_keeps_messages_pending() -> None:
    assert isinstance(to_send_error(OAReauthorizationNeeded("x")), TemporaryFailure)
