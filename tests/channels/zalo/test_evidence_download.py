"""Evidence photos are downloaded when the stored update is processed (Zalo's CDN links
expire), through the running channels against the fake servers and the real pipeline: the
file is kept under data_dir/evidence with the CDN's bytes; a photo too big, not a photo, or
already expired is refused with a clear reply, and the official's message is still recorded."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.kind import ChannelDeps
from bot.channels.webhook_hub import WebhookHub
from bot.channels.zalo_run import bot_runtime, oa_runtime
from bot.config import Settings
from bot.pipeline import apply_inbound
from handlers.types import Inbound
from kernel.clock import FixedClock
from storage.inbox import InboxUpdate
from storage.models import Evidence, OutboxMessage
from tests.channels.zalo.conftest import BOT_TOKEN
from tests.fakes.fake_zalo_bot import JPEG, FakeZaloBot
from tests.fakes.fake_zalo_oa import FakeZaloOA
from tests.handlers.helpers import World, make_world

SECRET = "evidence-secret-1234"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> World:
    return make_world(engine, clock.now())


def _settings(data_dir: Path, port: int, fake_bot: FakeZaloBot, fake_oa: FakeZaloOA) -> Settings:
    base = Settings()
    refresh = fake_oa.issue_pair()[1]
    return base.model_copy(
        update={
            "app": base.app.model_copy(update={"data_dir": data_dir}),
            "zalo": base.zalo.model_copy(
                update={
                    "api_base": fake_bot.base_url,
                    "webhook_port": port,
                    "webhook_base_url": f"http://127.0.0.1:{port}",
                    "evidence_max_mb": 0.01,  # 10 KiB: the fakes' photos are smaller
                    "oa": base.zalo.oa.model_copy(
                        update={"api_base": fake_oa.base_url, "oauth_base": fake_oa.base_url}
                    ),
                }
            ),
            "secrets": base.secrets.model_copy(
                update={
                    "zalo_bot_token": SecretStr(BOT_TOKEN),
                    "zalo_webhook_secret": SecretStr(SECRET),
                    "zalo_oa_app_id": SecretStr(fake_oa.app_id),
                    "zalo_oa_app_secret": SecretStr(fake_oa.app_secret),
                    "zalo_oa_secret_key": SecretStr(fake_oa.secret_key),
                    "zalo_oa_refresh_token": SecretStr(refresh),
                }
            ),
        }
    )


@dataclasses.dataclass
class Running:
    world: World
    settings: Settings
    port: int
    data_dir: Path

    def processed(self, channel: str, key: str) -> bool:
        with Session(self.world.engine) as session:
            row = session.exec(
                select(InboxUpdate).where(
                    InboxUpdate.channel == channel, InboxUpdate.update_key == key
                )
            ).first()
            return row is not None and row.processed_at is not None

    async def settled(self, channel: str, key: str) -> None:
        for _ in range(1000):
            if self.processed(channel, key):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{channel} update {key} was not processed")

    def evidence(self) -> list[Evidence]:
        with Session(self.world.engine) as session:
            return list(session.exec(select(Evidence).order_by(col(Evidence.id))).all())

    def last_reply(self, chat_id: str) -> str:
        with Session(self.world.engine) as session:
            row = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.chat_id == chat_id)
                .order_by(col(OutboxMessage.id).desc())
            ).first()
            assert row is not None, "no reply"
            return row.text


@pytest.fixture
async def running(
    world: World,
    clock: FixedClock,
    fake_bot: FakeZaloBot,
    fake_oa: FakeZaloOA,
    tmp_path: Path,
) -> AsyncIterator[Running]:
    port = free_port()
    settings = _settings(tmp_path / "data", port, fake_bot, fake_oa)

    async def apply(inbound: Inbound) -> list[int] | None:
        return await asyncio.to_thread(apply_inbound, world.engine, inbound, settings, clock.now())

    hub = WebhookHub("127.0.0.1", port)
    deps = ChannelDeps(settings, clock, apply, engine=world.engine, hub=hub)
    stop = asyncio.Event()
    runtimes: list[bot_runtime.ZaloBotRuntime | oa_runtime.ZaloOARuntime] = [
        await bot_runtime.start(deps),
        await oa_runtime.start(deps),
    ]
    tasks = [asyncio.create_task(r.receive(stop)) for r in runtimes]
    try:
        yield Running(world, settings, port, tmp_path / "data")
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)
        await hub.stop()
        for runtime in runtimes:
            await runtime.close()


async def test_a_zalo_bot_photo_is_kept_with_its_bytes(
    running: Running, fake_bot: FakeZaloBot
) -> None:
    user = running.world.link("off1a", channel="zalo")
    number = running.world.assignments_of("off1a")[0]
    key = await fake_bot.inject_image(user, caption=f"{number} biên bản", content=PNG)
    assert fake_bot.deliveries[-1] == 200
    await running.settled("zalo", key)
    (row,) = running.evidence()
    assert row.assignment_id == number and row.fetch_error is None
    assert row.stored_path is not None and row.stored_path.startswith("evidence/")
    stored = running.data_dir / row.stored_path
    assert stored.read_bytes() == PNG and stored.suffix == ".png"
    assert (row.mime_type, row.file_size) == ("image/png", len(PNG))
    assert stored.stat().st_mode & 0o077 == 0  # officials' photos: the bot's user only
    assert "đã lưu 1 tệp" in running.last_reply(user)


async def test_an_oa_photo_is_kept(
    running: Running, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    user = running.world.link("off1b", channel="zalo_oa")
    number = running.world.assignments_of("off1b")[0]
    event = fake_oa.image_event(user, str(number))
    event["timestamp"] = str(int(clock.now().timestamp() * 1000))  # the bot's clock
    url = f"http://127.0.0.1:{running.port}/zalo-oa/webhook"
    assert await fake_oa.deliver(url, event) == 200
    await running.settled("zalo_oa", event["message"]["msg_id"])
    (row,) = running.evidence()
    assert row.channel == "zalo_oa" and row.stored_path is not None
    assert (running.data_dir / row.stored_path).read_bytes() == JPEG


@pytest.mark.parametrize(
    ("content", "expired", "error", "words"),
    [
        (JPEG + b"\0" * 20_000, False, "too_big", "lớn hơn mức bot nhận"),
        (b"<html>a web page, not a photo</html>", False, "not_image", "không phải là ảnh"),
        (None, True, "unreachable", "không tải được"),
    ],
)
async def test_a_photo_that_cannot_be_kept_is_refused_but_the_message_is_recorded(
    running: Running,
    fake_bot: FakeZaloBot,
    content: bytes | None,
    expired: bool,
    error: str,
    words: str,
) -> None:
    user = running.world.link("off1a", channel="zalo")
    number = running.world.assignments_of("off1a")[0]
    fake_bot.cdn_expired = expired
    key = await fake_bot.inject_image(user, caption=str(number), content=content)
    await running.settled("zalo", key)
    (row,) = running.evidence()  # recorded: the official's message is not lost
    assert (row.assignment_id, row.stored_path, row.fetch_error) == (number, None, error)
    assert row.file_id.startswith(fake_bot.base_url)  # the link, for as long as it lives
    reply = running.last_reply(user)
    assert f"#{number}" in reply and "đã được ghi nhận" in reply and words in reply
    evidence = running.data_dir / "evidence"
    assert not evidence.exists() or list(evidence.iterdir()) == []  # nothing half-written


async def test_a_full_disk_does_not_lose_the_officials_message(
    running: Running, fake_bot: FakeZaloBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the download does (here: writing the copy fails), the message is recorded."""
    from bot.channels.zalo_bot import media

    def full(*_args: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(media, "_write", full)
    user = running.world.link("off1a", channel="zalo")
    number = running.world.assignments_of("off1a")[0]
    key = await fake_bot.inject_image(user, caption=str(number))
    await running.settled("zalo", key)
    (row,) = running.evidence()
    assert (row.assignment_id, row.stored_path, row.fetch_error) == (number, None, "write_failed")
    assert "đã được ghi nhận" in running.last_reply(user)
