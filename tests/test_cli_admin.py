"""The admin commands end to end through Typer: init, status, units, officials, invite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.invites import hash_code
from storage.models import Invite, Official, Unit

Run = Callable[..., Result]

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


def _write_config(path: Path, locale: str, bot_username: str = "") -> Path:
    path.write_text(
        f'[app]\ndefault_locale = "{locale}"\n[telegram]\nbot_username = "{bot_username}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Runs ``papi-bot`` against the test database, printing in English."""
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.setenv(
        "PAPI_BOT_CONFIG", str(_write_config(tmp_path / "en.toml", "en", "@PapiBot"))
    )
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    yield run


def _csv(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _count(engine: Engine, model: type[Unit] | type[Official] | type[Invite]) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


# ---------------------------------------------------------------- init / status


def test_init_twice_then_status(cli: Run) -> None:
    first = _ok(cli("init"))
    assert "database upgraded from empty to" in first
    assert "taxonomy:" in first and "units: 0" in first
    second = _ok(cli("init"))
    assert "database up to date" in second and "taxonomy:" not in second
    assert "units: 0" in _ok(cli("status"))


def test_commands_before_init_fail_clearly(cli: Run, tmp_path: Path) -> None:
    result = cli("units", "import", _csv(tmp_path, "u.csv", UNITS))
    assert result.exit_code == 2
    assert "papi-bot init" in result.stderr
    assert "not initialised" in _ok(cli("status"))


def test_vietnamese_is_the_default_output(
    engine: Engine, cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(_write_config(tmp_path / "vi.toml", "vi")))
    assert "thêm mới 4" in _ok(cli("units", "import", _csv(tmp_path, "u.csv", UNITS)))
    result = cli("units", "import", _csv(tmp_path, "bad.csv", "code,name,level\n1,A,province\n"))
    assert result.exit_code == 2
    assert "dòng 1: thiếu cột parent_code" in result.stderr


# ---------------------------------------------------------------- units


def test_units_import_and_list(engine: Engine, cli: Run, tmp_path: Path) -> None:
    out = _ok(cli("units", "import", _csv(tmp_path, "u.csv", UNITS)))
    assert "4 added, 0 updated, 0 unchanged" in out
    assert _count(engine, Unit) == 4
    flat = _ok(cli("units", "list")).splitlines()
    assert "07420\tcommune\tXã Tân An\t213" in flat
    tree = _ok(cli("units", "list", "--tree")).splitlines()
    assert tree == [
        "Tỉnh Bắc Giang [24, province]",
        "  Huyện Yên Dũng [213, district]",
        "    Xã Tân An [07420, commune]",
        "  Sở Nội vụ [SNV, department]",
    ]
    again = _ok(cli("units", "import", _csv(tmp_path, "u.csv", UNITS)))
    assert "0 added, 0 updated, 4 unchanged" in again


def test_units_list_empty(engine: Engine, cli: Run) -> None:
    assert "no units yet" in _ok(cli("units", "list"))


def test_units_bad_file_is_refused_whole(engine: Engine, cli: Run, tmp_path: Path) -> None:
    bad = _csv(
        tmp_path,
        "bad.csv",
        "code,name,level,parent_code\n24,Tỉnh,province,\n1,Xã A,commune,99\n2,,hamlet,24\n",
    )
    result = cli("units", "import", bad)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("line 3: unknown parent 99")
    assert lines[1] == "line 4: the name is empty"
    assert lines[2].startswith("line 4: unknown level 'hamlet'")
    assert lines[-1] == "the file was refused: 3 problems, nothing was imported"
    assert result.stdout == ""
    assert _count(engine, Unit) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "file not found"), ("", "is empty"), ("code,name,level,parent_code\n", "no rows")],
)
def test_units_empty_or_missing_file(
    engine: Engine, cli: Run, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "units.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = cli("units", "import", str(path))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert _count(engine, Unit) == 0


def test_units_file_not_utf8(engine: Engine, cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(
        "code,name,level,parent_code\n24,Bình Định,province,\n".encode("cp1252", "replace")
    )
    result = cli("units", "import", str(path))
    assert result.exit_code == 2 and "UTF-8" in result.stderr


# ---------------------------------------------------------------- officials


@pytest.fixture
def with_units(engine: Engine, cli: Run, tmp_path: Path) -> None:
    _ok(cli("units", "import", _csv(tmp_path, "u.csv", UNITS)))


@pytest.mark.usefixtures("with_units")
def test_officials_import_and_list_masks_phones(engine: Engine, cli: Run, tmp_path: Path) -> None:
    assert "2 added" in _ok(cli("officials", "import", _csv(tmp_path, "o.csv", OFFICIALS)))
    listing = _ok(cli("officials", "list"))
    assert "0912***678" in listing and "0987***321" in listing
    assert "912345678" not in listing and "345" not in listing.replace("***", "")
    assert "Nguyễn Văn A\t0912***678\t07420 Xã Tân An\tchair\tvi\t-" in listing.splitlines()
    only_district = _ok(cli("officials", "list", "--unit", "213"))
    assert "Nguyễn Văn A" in only_district and "Trần Thị B" not in only_district


@pytest.mark.usefixtures("with_units")
def test_officials_bad_file(engine: Engine, cli: Run, tmp_path: Path) -> None:
    bad = _csv(
        tmp_path,
        "o.csv",
        OFFICIALS + "Lê C,0912 345 678,07420,official,vi\nPhạm D,0123,404,boss,vi\n",
    )
    result = cli("officials", "import", bad)
    assert result.exit_code == 2
    assert "line 4: phone 0912***678 already appears on line 2" in result.stderr
    assert "345" not in result.stderr
    assert result.stderr.count("line 5:") == 3
    assert _count(engine, Official) == 0


@pytest.mark.usefixtures("with_units")
def test_officials_add(engine: Engine, cli: Run) -> None:
    out = _ok(cli("officials", "add", "--name", "Lê Văn C", "--phone", "0333 444 555",
                  "--unit", "07420", "--role", "chair"))  # fmt: skip
    assert "added Lê Văn C (0333***555) to Xã Tân An as chair" in out
    with Session(engine) as session:
        official = session.exec(select(Official)).one()
    assert (official.phone, official.locale) == ("+84333444555", "en")  # the configured default
    duplicate = cli("officials", "add", "--name", "X", "--phone", "+84333444555", "--unit", "SNV")
    assert duplicate.exit_code == 2 and "already belongs" in duplicate.stderr
    for args, message in (
        (("--unit", "404"), "unknown unit '404'"),
        (("--unit", "SNV", "--role", "boss"), "unknown role 'boss'"),
        (("--unit", "SNV", "--locale", "fr"), "unknown locale 'fr'"),
    ):
        result = cli("officials", "add", "--name", "Y", "--phone", "0987654321", *args)
        assert result.exit_code == 2 and message in result.stderr
    assert _count(engine, Official) == 1


@pytest.mark.usefixtures("with_units")
def test_officials_list_unknown_unit(cli: Run) -> None:
    result = cli("officials", "list", "--unit", "404")
    assert result.exit_code == 2 and "unknown unit" in result.stderr


# ---------------------------------------------------------------- invite


@pytest.fixture
def with_officials(with_units: None, cli: Run, tmp_path: Path) -> None:
    _ok(cli("officials", "import", _csv(tmp_path, "o.csv", OFFICIALS)))


@pytest.mark.usefixtures("with_officials")
def test_invite_prints_code_expiry_and_link(
    engine: Engine, cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PAPI_BOT_CONFIG", str(_write_config(tmp_path / "vi.toml", "vi", "@PapiBot"))
    )
    # 20:00 UTC on 21 Nov is already 22 Nov in Vietnam: the expiry date is Vietnam's.
    with time_machine.travel(datetime(2026, 11, 21, 20, 0, tzinfo=UTC), tick=False):
        out = _ok(cli("invite", "0912 345 678"))
    with Session(engine) as session:
        invite = session.exec(select(Invite)).one()
    assert invite.expires_at == datetime(2026, 11, 21, 20, 0, tzinfo=UTC) + timedelta(days=14)
    code = out.split("Mã mời của Nguyễn Văn A (0912***678): ", 1)[1].split()[0]
    assert invite.code_hash == hash_code(code) and code not in invite.code_hash  # only the hash
    assert "hết ngày 6 tháng 12 năm 2026" in out
    assert f"https://t.me/PapiBot?start={code}" in out
    assert "912345678" not in out


@pytest.mark.usefixtures("with_officials")
def test_invite_without_bot_username_has_no_link(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(_write_config(tmp_path / "plain.toml", "en")))
    out = _ok(cli("invite", "+84987654321"))
    assert "Invite code for Trần Thị B" in out and "t.me" not in out


@pytest.mark.usefixtures("with_officials")
def test_each_invite_is_a_new_code(engine: Engine, cli: Run) -> None:
    _ok(cli("invite", "0912345678"))
    _ok(cli("invite", "0912345678"))
    with Session(engine) as session:
        codes = {invite.code_hash for invite in session.exec(select(Invite)).all()}
    assert len(codes) == 2


@pytest.mark.usefixtures("with_officials")
@pytest.mark.parametrize(
    ("phone", "message"),
    [("0999999999", "no official has the phone number 0999***999"), ("12345", "bad phone number")],
)
def test_invite_refused(engine: Engine, cli: Run, phone: str, message: str) -> None:
    result = cli("invite", phone)
    assert result.exit_code == 2 and message in result.stderr
    assert _count(engine, Invite) == 0


@pytest.mark.usefixtures("with_officials")
def test_invite_inactive_official(engine: Engine, cli: Run) -> None:
    with Session(engine) as session:
        official = session.exec(select(Official).where(Official.name == "Trần Thị B")).one()
        official.active = False
        session.add(official)
        session.commit()
    result = cli("invite", "0987654321")
    assert result.exit_code == 2 and "inactive" in result.stderr
    assert _count(engine, Invite) == 0
