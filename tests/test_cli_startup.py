"""The CLI starts light: the heavy libraries load only in the commands that use them.

A behaviour test, not a timing test: a fresh interpreter imports the CLI (or renders a
command's help) and the modules it loaded are checked by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import make_engine, session_scope, upgrade
from storage.models import Role, UnitLevel
from storage.officials import add_official
from storage.units import add_unit

# Report writers, the Telegram framework, migrations, the web console and the plan reader.
HEAVY = (
    "matplotlib",
    "openpyxl",
    "docx",
    "aiogram",
    "aiohttp",
    "alembic",
    "jinja2",
    "segno",
    "apscheduler",
    "bot.planimport",
    "bot.pipeline",
    "bot.channels",
)

# The storage layer and the settings (≈ 0.5 s): only for the commands that need them. (Not
# pydantic: Typer itself loads it to read the options.)
STORAGE = ("sqlalchemy", "sqlmodel", "bot.config", "storage.db", "storage.models")

PROBE = """
import json, sys
sys.argv = ["papi-bot", *json.loads(sys.argv[1])]
import bot.cli
if len(sys.argv) > 1:
    try:
        bot.cli.main()
    except SystemExit:
        pass
print("\\n" + json.dumps(sorted(sys.modules)))
"""


def loaded_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter holds after importing the CLI (and running ``args``)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return set(json.loads(done.stdout.rstrip().rsplit("\n", 1)[-1]))


def heavy_in(modules: set[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return [name for name in heavy if any(m == name or m.startswith(name + ".") for m in modules)]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    modules = loaded_by()
    assert "bot.cli" in modules  # the probe really imported it
    assert heavy_in(modules, HEAVY + STORAGE) == []


HELPS = [
    ["--help"],
    ["report", "--help"],
    ["import-plan", "--help"],
    ["digest", "--help"],
    ["units", "--help"],
    ["officials", "add", "--help"],
    ["run", "--help"],
    ["zalo-oa", "authorize", "--help"],
]


@pytest.mark.parametrize("command", HELPS, ids=" ".join)
def test_help_loads_neither_a_heavy_library_nor_storage(command: list[str]) -> None:
    assert heavy_in(loaded_by(*command), HEAVY + STORAGE) == []


def test_a_command_on_an_up_to_date_database_does_not_ask_alembic(tmp_path: Path) -> None:
    """Whether the database is at the migrations' head is one SQL read, not Alembic's."""
    url = f"sqlite:///{tmp_path / 'papi.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {**os.environ, "PAPI_BOT_DATABASE_URL": url}
    for command in (["units", "list"], ["status"], ["officials", "list"]):
        modules = loaded_by(*command, env=env)
        assert "storage.db" in modules  # the command really opened the database
        assert heavy_in(modules) == [], command


# The frameworks and writers a command that only reads and prints has no use for.
FRAMEWORKS = tuple(name for name in HEAVY if not name.startswith("bot."))


@pytest.fixture
def province_env(tmp_path: Path) -> dict[str, str]:
    """A current database with a province and its coordinator."""
    url = f"sqlite:///{tmp_path / 'papi.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        province = add_unit(session, "P01", "Tỉnh Thử", UnitLevel.PROVINCE, None)
        add_official(session, "Lê Văn C", "0912345678", province, Role.COORDINATOR, "vi")
    engine.dispose()
    return {**os.environ, "PAPI_BOT_DATABASE_URL": url}


@pytest.mark.parametrize(
    ("command", "ran"),
    [
        # split at the channels' text limit, read from their declarations, not their adapters
        (["digest", "--unit", "P01"], "bot.scheduler.digest"),
        (["report", "--unit", "P01", "--out", "{tmp}/r.csv"], "bot.reports.csvout"),
        (["console-login", "0912345678"], "storage.console"),  # the address is a setting
    ],
    ids=lambda value: value[0] if isinstance(value, list) else "",
)
def test_a_command_loads_no_framework_it_does_not_use(
    command: list[str], ran: str, province_env: dict[str, str], tmp_path: Path
) -> None:
    """Printing a digest, writing a CSV or a sign-in code needs neither aiogram, aiohttp
    nor openpyxl (≈ 0.2–0.6 s each)."""
    modules = loaded_by(*(part.format(tmp=tmp_path) for part in command), env=province_env)
    assert ran in modules  # the command really did its work
    assert heavy_in(modules, FRAMEWORKS) == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a command that writes a report does load its library."""
    modules = loaded_by("--help")
    assert "typer" in modules
    assert heavy_in({"sqlalchemy.orm", "bot.config"}, STORAGE) == ["sqlalchemy", "bot.config"]
    import_writer = subprocess.run(
        [sys.executable, "-c", "import bot.reports.xlsx, sys; print('openpyxl' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert import_writer.stdout.strip() == "True"
