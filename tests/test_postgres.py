"""The same code on a real PostgreSQL server: migrations, init, imports, invites.

Runs when ``PAPI_BOT_TEST_POSTGRES_URL`` points at a server on 127.0.0.1 whose user may
create databases (``scripts/postgres-for-tests.sh`` starts one and prints the URL). Each test
gets a fresh database of its own, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.db import current_revision, head_revision, make_engine, upgrade
from storage.invites import InviteProblem, check_invite, create_invite, mark_used
from storage.models import ChannelIdentity, Invite, Official, Unit
from storage.officials import get_official_by_phone
from storage.units import get_unit_by_code, province_of, units_under
from tests.pgdb import SERVER_URL, fresh_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not SERVER_URL,
        reason="set PAPI_BOT_TEST_POSTGRES_URL (scripts/postgres-for-tests.sh prints one)",
    ),
]

UNITS = (
    "code,name,level,parent_code\n"
    "07420,Xã Tân An,commune,213\n"
    "24,Tỉnh Bắc Giang,province,\n"
    "213,Huyện Yên Dũng,district,24\n"
    "SNV,Sở Nội vụ,department,24\n"
)
OFFICIALS = (
    "name,phone,unit_code,role,locale\n"
    "Nguyễn Văn A,0912.345.678,07420,chair,vi\n"
    "Trần Thị B,+84 987 654 321,SNV,coordinator,\n"
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    db = make_engine(pg_url)
    yield db
    db.dispose()


@pytest.fixture
def cli(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", pg_url)
    config = tmp_path / "en.toml"
    config.write_text('[app]\ndefault_locale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    yield CliRunner()


def _run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(app, list(args))


def _csv(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_init_from_the_first_revision_keeps_rows(pg: Engine, cli: CliRunner) -> None:
    upgrade(pg, "0001")
    with pg.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO unit (code, name, name_folded, level, path) "
                "VALUES ('24', 'Tỉnh Bắc Giang', 'tinh bac giang', 'province', '/1/')"
            )
        )
    for _ in range(2):  # twice: the second run changes nothing
        result = _run(cli, "init")
        assert result.exit_code == 0, result.output
    assert current_revision(pg) == head_revision(pg)
    with Session(pg) as session:
        assert session.exec(select(Unit.name)).all() == ["Tỉnh Bắc Giang"]


def test_subtree_index_serves_prefix_search(pg: Engine, cli: CliRunner) -> None:
    """Migration 0002: unit.path is indexed with text_pattern_ops, so LIKE '/1/%' can use it."""
    assert _run(cli, "init").exit_code == 0
    with pg.connect() as connection:
        definition = connection.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_unit_path'")
        ).scalar_one()
    assert "text_pattern_ops" in definition


def test_imports_invites_and_queries(pg: Engine, cli: CliRunner, tmp_path: Path) -> None:
    assert _run(cli, "init").exit_code == 0
    units = _run(cli, "units", "import", _csv(tmp_path, "u.csv", UNITS))
    assert units.exit_code == 0 and "4 added" in units.stdout
    officials = _run(cli, "officials", "import", _csv(tmp_path, "o.csv", OFFICIALS))
    assert officials.exit_code == 0 and "2 added" in officials.stdout
    bad = _run(cli, "officials", "import", _csv(tmp_path, "b.csv", OFFICIALS + "X,1,404,,\n"))
    assert bad.exit_code == 2 and "line 4:" in bad.stderr
    assert "0912***678" in _run(cli, "officials", "list", "--unit", "213").stdout

    with Session(pg, expire_on_commit=False) as session:
        assert session.exec(select(func.count()).select_from(Official)).one() == 2
        province, commune = get_unit_by_code(session, "24"), get_unit_by_code(session, "07420")
        assert province is not None and commune is not None
        assert {u.code for u in units_under(session, province, "commune")} == {"07420"}
        assert province_of(session, commune) == province
        official = get_official_by_phone(session, "0912345678")
        assert official is not None and official.id is not None
        now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
        invite = create_invite(session, official.id, now, ttl_days=14)
        identity = ChannelIdentity(
            official_id=official.id, channel="telegram", external_user_id="1", chat_id="1"
        )
        session.add(identity)
        session.flush()
        assert identity.id is not None
        assert isinstance(check_invite(session, invite.code, now), Invite)
        mark_used(session, invite.invite, identity.id, now)
        session.commit()
        assert check_invite(session, invite.code, now) is InviteProblem.USED
        stored = session.exec(select(Invite)).one()
        assert stored.expires_at == now + timedelta(days=14)


def test_reimport_moves_a_subtree(pg: Engine, cli: CliRunner, tmp_path: Path) -> None:
    assert _run(cli, "init").exit_code == 0
    assert _run(cli, "units", "import", _csv(tmp_path, "u.csv", UNITS)).exit_code == 0
    moved = "code,name,level,parent_code\n19,Tỉnh Thái Nguyên,province,\n213,Huyện X,district,19\n"
    assert _run(cli, "units", "import", _csv(tmp_path, "m.csv", moved)).exit_code == 0
    with Session(pg) as session:
        new_province, commune = get_unit_by_code(session, "19"), get_unit_by_code(session, "07420")
        assert new_province is not None and commune is not None
        assert commune.path.startswith(new_province.path)
