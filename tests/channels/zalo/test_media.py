"""Evidence photos are downloaded on receipt (Zalo's CDN links expire), with size and type
checks on the bytes, stored once by content hash, never half-written."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from bot.channels.zalo_bot.media import MediaRejected, download_image, image_type
from bot.channels.zalo_bot.updates import parse_update
from handlers.types import Inbound
from kernel.clock import FixedClock
from tests.fakes.fake_zalo_bot import JPEG, FakeZaloBot
from tests.fakes.fake_zalo_oa import FakeZaloOA


async def test_a_received_photo_is_downloaded(
    fake_bot: FakeZaloBot, http: httpx.AsyncClient, tmp_path: Path, clock: FixedClock
) -> None:
    await fake_bot.inject_image("u1", caption="Ảnh")
    inbound = parse_update(fake_bot.pending[0], clock.now())
    assert isinstance(inbound, Inbound)
    saved = await download_image(http, inbound.attachments[0].file_id, tmp_path / "evidence")
    assert saved.mime_type == "image/jpeg" and saved.size == len(JPEG)
    assert saved.path.read_bytes() == JPEG and saved.path.suffix == ".jpg"
    again = await download_image(http, inbound.attachments[0].file_id, tmp_path / "evidence")
    assert again.path == saved.path
    assert [p.name for p in (tmp_path / "evidence").iterdir()] == [saved.path.name]  # no .part


async def test_oa_images_too(fake_oa: FakeZaloOA, http: httpx.AsyncClient, tmp_path: Path) -> None:
    url = fake_oa.image_event("84")["message"]["attachments"][0]["payload"]["url"]
    assert (await download_image(http, url, tmp_path)).mime_type == "image/jpeg"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<html>not a photo</html>", "not a JPEG"),
        (JPEG + b"\0" * 5000, "larger than"),
    ],
)
async def test_rejected_files_leave_nothing(
    fake_bot: FakeZaloBot, http: httpx.AsyncClient, tmp_path: Path, content: bytes, reason: str
) -> None:
    fake_bot.cdn_files["x.jpg"] = content
    with pytest.raises(MediaRejected, match=reason):
        await download_image(http, f"{fake_bot.base_url}/cdn/x.jpg", tmp_path, max_bytes=4096)
    assert os.listdir(tmp_path) == []


async def test_an_expired_link_is_a_clear_rejection(
    fake_bot: FakeZaloBot, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    fake_bot.cdn_expired = True
    with pytest.raises(MediaRejected, match="HTTP 403"):
        await download_image(http, f"{fake_bot.base_url}/cdn/y.jpg", tmp_path)
    with pytest.raises(MediaRejected, match="web address"):
        await download_image(http, "file:///etc/passwd", tmp_path)
    with pytest.raises(MediaRejected, match="could not be fetched"):
        await download_image(http, "http://127.0.0.1:9/z.jpg", tmp_path)


def test_webp_is_sniffed() -> None:
    assert image_type(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert image_type(b"RIFF\x10\x00\x00\x00WAVEfmt ") is None
