"""The console on PostgreSQL: the same migration, sign-in, dashboard, edit and audit log."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.web import build_app
from kernel.clock import FixedClock
from storage.db import session_scope, upgrade
from storage.models import Official
from storage.taxonomy import sync_taxonomy
from tests.test_postgres import pg, pg_url, pytestmark  # noqa: F401 - fixtures and skip rule
from tests.web.conftest import SECRET, build_tree, sign_in


async def test_the_console_on_postgresql(pg: Engine, clock: FixedClock, tmp_path: Path) -> None:  # noqa: F811
    upgrade(pg)
    with session_scope(pg) as session:
        sync_taxonomy(session)
    tree = build_tree(pg)
    settings = Settings.model_validate({"app": {"data_dir": str(tmp_path)}})
    client = TestClient(TestServer(build_app(pg, settings, clock, secret=SECRET), host="127.0.0.1"))
    await client.start_server()
    try:
        token = await sign_in(client, pg, clock, tree.admin)
        page = await client.get(f"/units/{tree.province.id}?period=year")
        assert page.status == 200 and tree.district_a.name in await page.text()
        form = {
            "csrf": token,
            "name": tree.official.name,
            "role": "official",
            "unit_id": str(tree.commune_a.id),
        }
        edited = await client.post(f"/officials/{tree.official.id}", data=form)
        assert edited.status == 200
        assert "official.deactivate" in await (await client.get("/audit")).text()
    finally:
        await client.close()
    with Session(pg) as session:
        official = session.get(Official, tree.official.id)
        assert official is not None and not official.active
