"""A province with two districts, their communes, an admin, a province coordinator and a
district coordinator; the shipped demo plan stored for it; the console app on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.demo import SHIPPED_PLAN
from bot.planimport import parse_plan, store_plan
from bot.web import build_app
from kernel.clock import FixedClock
from storage.console import create_login_code
from storage.db import session_scope
from storage.models import ChannelIdentity, Official, Unit
from storage.units import add_unit

Client = TestClient[web.Request, web.Application]
SECRET = "test-console-secret-never-shown"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Tree:
    province: Unit
    district_a: Unit
    district_b: Unit
    commune_a: Unit
    commune_b: Unit
    admin: Official
    coordinator: Official  # Sở Nội vụ: the whole province
    district_coordinator: Official  # district A only
    official: Official  # a commune official: no console


def _person(session: object, name: str, phone: str, unit: Unit, role: str) -> Official:
    assert unit.id is not None
    official = Official(name=name, phone=phone, unit_id=unit.id, role=role)
    session.add(official)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return official


def build_tree(engine: Engine) -> Tree:
    with session_scope(engine) as session:
        province = add_unit(session, "P", "Tỉnh Thử", "province", None)
        snv = add_unit(session, "P-SNV", "Sở Nội vụ", "department", province)
        for code, name in (("P-VP", "Văn phòng UBND tỉnh"), ("P-SYT", "Sở Y tế")):
            add_unit(session, code, name, "department", province)
        district_a = add_unit(session, "DA", "Huyện An", "district", province)
        district_b = add_unit(session, "DB", "Huyện Bình", "district", province)
        commune_a = add_unit(session, "XA", "Xã An Lạc", "commune", district_a)
        commune_b = add_unit(session, "XB", "Xã Bình Minh", "commune", district_b)
        tree = Tree(
            province,
            district_a,
            district_b,
            commune_a,
            commune_b,
            admin=_person(session, "Quản Trị Viên", "+84901000001", snv, "admin"),
            coordinator=_person(session, "Ngô Thị Thu", "+84901000002", snv, "coordinator"),
            district_coordinator=_person(
                session, "Lý Văn An", "+84901000003", district_a, "coordinator"
            ),
            official=_person(session, "Lê Thị Hoa", "+84901000004", commune_a, "official"),
        )
        for n, person in enumerate((tree.admin, tree.coordinator, tree.official), start=1):
            assert person.id is not None
            session.add(
                ChannelIdentity(
                    official_id=person.id,
                    channel="telegram",
                    external_user_id=str(7000 + n),
                    chat_id=str(7000 + n),
                )
            )
        parsed = parse_plan(SHIPPED_PLAN)
        store_plan(session, parsed, province)
    return tree


@pytest.fixture
def tree(engine: Engine) -> Tree:
    return build_tree(engine)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.model_validate({"app": {"data_dir": str(tmp_path / "data")}})


@pytest.fixture
async def client(
    engine: Engine, settings: Settings, clock: FixedClock, tree: Tree
) -> AsyncIterator[Client]:
    app = build_app(engine, settings, clock, secret=SECRET)
    test_client = TestClient(TestServer(app, host="127.0.0.1"))
    await test_client.start_server()
    yield test_client
    await test_client.close()


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def sign_in(
    client: Client,
    engine: Engine,
    clock: FixedClock,
    official: Official,
) -> str:
    """Sign ``official`` in with a fresh one-time code; returns the session's CSRF token."""
    with session_scope(engine) as session:
        person = session.get(Official, official.id)
        assert person is not None
        code = create_login_code(session, person, clock.now())
    page = await client.get("/login")
    token = csrf_of(await page.text())
    response = await client.post(
        "/login/code",
        data={"csrf": token, "phone": official.phone, "code": code},
        allow_redirects=False,
    )
    assert response.status == 302, await response.text()
    home = await client.get("/")
    assert home.status == 200, await home.text()
    return csrf_of(await home.text())
