"""Evidence photos: fetched from the (fake) Bot API server-side, shown only inside the area."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.config import Settings
from bot.web import build_app
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import Assignment, Evidence
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.conftest import SECRET, Client, Tree, sign_in

TOKEN = "123456:EVIDENCE-token-never-in-a-page"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


def add_evidence(engine: Engine, unit_id: int, file_id: str) -> tuple[int, int]:
    """(evidence id, assignment id) of a photo on one of the unit's assignments."""
    with session_scope(engine) as session:
        assignment = session.exec(
            select(Assignment).where(col(Assignment.unit_id) == unit_id)
        ).first()
        assert assignment is not None and assignment.id is not None
        item = Evidence(assignment_id=assignment.id, channel="telegram", file_id=file_id)
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id, assignment.id


async def test_a_photo_is_shown_to_whoever_may_see_the_unit(
    engine: Engine, clock: FixedClock, tree: Tree, fake: FakeTelegram, tmp_path: Path
) -> None:
    await fake.inject_message(1, photo=True)  # the fake now holds file "ph1-m"
    settings = Settings.model_validate(
        {
            "app": {"data_dir": str(tmp_path)},
            "telegram": {"api_base": fake.base_url},
            "secrets": {"telegram_bot_token": TOKEN},
        }
    )
    evidence_id, assignment_id = add_evidence(engine, tree.commune_b.id or 0, "ph1-m")
    client: Client = TestClient(
        TestServer(build_app(engine, settings, clock, secret=SECRET), host="127.0.0.1")
    )
    await client.start_server()
    try:
        await sign_in(client, engine, clock, tree.coordinator)
        page = await (await client.get(f"/assignments/{assignment_id}")).text()
        assert f'src="/evidence/{evidence_id}"' in page and TOKEN not in page
        photo = await client.get(f"/evidence/{evidence_id}")
        assert photo.status == 200 and await photo.read() == b"fake file content"
        assert (await client.get("/evidence/999999")).status == 404
        client.session.cookie_jar.clear()
        await sign_in(client, engine, clock, tree.district_coordinator)  # district A only
        assert (await client.get(f"/evidence/{evidence_id}")).status == 403
    finally:
        await client.close()


async def test_a_kept_zalo_copy_is_served_from_data_dir(
    engine: Engine, clock: FixedClock, tree: Tree, tmp_path: Path
) -> None:
    """Zalo's links expire: the console serves the copy kept on receipt, and only a file in
    data_dir/evidence."""
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "ab12.png").write_bytes(b"\x89PNG\r\n\x1a\nkept")
    (tmp_path / "secret.txt").write_text("not evidence")
    settings = Settings.model_validate({"app": {"data_dir": str(tmp_path)}})
    kept, _a = add_evidence(engine, tree.commune_b.id or 0, "https://cdn.example/expired.png")
    outside, _b = add_evidence(engine, tree.commune_b.id or 0, "https://cdn.example/x.png")
    with session_scope(engine) as session:
        for evidence_id, path in ((kept, "evidence/ab12.png"), (outside, "evidence/../secret.txt")):
            row = session.get(Evidence, evidence_id)
            assert row is not None
            row.channel, row.stored_path, row.mime_type = "zalo", path, "image/png"
            session.add(row)
    client: Client = TestClient(
        TestServer(build_app(engine, settings, clock, secret=SECRET), host="127.0.0.1")
    )
    await client.start_server()
    try:
        await sign_in(client, engine, clock, tree.coordinator)
        photo = await client.get(f"/evidence/{kept}", allow_redirects=False)
        assert photo.status == 200 and await photo.read() == b"\x89PNG\r\n\x1a\nkept"
        assert photo.headers["Content-Type"] == "image/png"
        assert (await client.get(f"/evidence/{outside}", allow_redirects=False)).status == 404
    finally:
        await client.close()
