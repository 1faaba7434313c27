"""Report files on Zalo: a signed, short-lived link the web console serves without sign-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from bot.channels.base import OutgoingMessage, PermanentFailure
from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.channels.zalo_bot.client import ZaloBotClient
from bot.config import Settings
from bot.web import build_app
from bot.web.file_links import LINK_HOURS, file_url_maker
from kernel.clock import FixedClock
from tests.fakes.fake_zalo_bot import FakeZaloBot

SECRET = "file-link-console-secret"
Client = TestClient[web.Request, web.Application]


def link_settings(tmp_path: Path, *, secret: str | None = SECRET) -> Settings:
    base = Settings()
    return base.model_copy(
        update={
            "app": base.app.model_copy(update={"data_dir": tmp_path}),
            "web": base.web.model_copy(update={"public_url": "https://papi.example.vn"}),
            "secrets": base.secrets.model_copy(
                update={"console_secret": SecretStr(secret) if secret else None}
            ),
        }
    )


def report(tmp_path: Path, name: str = "baocao_X.xlsx", data: bytes = b"PK-report") -> Path:
    path = tmp_path / "reports" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
async def console(engine: Engine, clock: FixedClock, tmp_path: Path) -> AsyncIterator[Client]:
    app = build_app(engine, link_settings(tmp_path), clock, secret=SECRET)
    client: Client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


def local(url: str) -> str:
    return url.removeprefix("https://papi.example.vn")


async def test_a_signed_link_downloads_the_report_without_a_sign_in(
    console: Client, tmp_path: Path
) -> None:
    make = file_url_maker(link_settings(tmp_path))
    assert make is not None
    url = make(str(report(tmp_path)), "Báo cáo.xlsx")
    assert url.startswith("https://papi.example.vn/download/f/")
    response = await console.get(local(url))
    assert response.status == 200 and await response.read() == b"PK-report"
    assert "attachment" in response.headers["Content-Disposition"]
    tampered = local(url)[:-3] + ("xyz" if not url.endswith("xyz") else "abc")
    assert (await console.get(tampered)).status == 404


async def test_a_link_expires(
    console: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    make = file_url_maker(link_settings(tmp_path))
    assert make is not None
    url = make(str(report(tmp_path)), "r.xlsx")
    later = time.time() + LINK_HOURS * 3600 + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert (await console.get(local(url))).status == 410


def test_only_report_files_are_linked_and_links_need_the_console_secret(tmp_path: Path) -> None:
    assert file_url_maker(link_settings(tmp_path, secret=None)) is None
    make = file_url_maker(link_settings(tmp_path))
    assert make is not None
    outside = tmp_path / "secret.db"
    outside.write_bytes(b"x")
    with pytest.raises(ValueError):
        make(str(outside), "secret.db")


async def test_zalo_bot_sends_a_report_as_its_link(
    fake_bot: FakeZaloBot, bot_client: ZaloBotClient, tmp_path: Path
) -> None:
    make = file_url_maker(link_settings(tmp_path))
    channel = ZaloBotChannel(bot_client, file_url=make)
    path = report(tmp_path, "baocao_Y.docx")
    await channel.send(OutgoingMessage("u1", "Báo cáo quý", file_path=str(path)))
    (sent,) = fake_bot.sent
    assert "Báo cáo quý" in (sent.text or "") and "https://papi.example.vn/download/f/" in (
        sent.text or ""
    )
    with pytest.raises(PermanentFailure, match="PAPI_BOT_CONSOLE_SECRET"):
        await ZaloBotChannel(bot_client).send(OutgoingMessage("u1", "x", file_path=str(path)))
