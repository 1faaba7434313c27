"""The database and the report files are the bot user's alone: folders 0700, files 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import AppConfig, Settings
from kernel.private import private_dir, private_file
from storage.db import make_engine, upgrade
from tests.handlers.helpers import World


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most servers run with: without care, files come out 0644, folders 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "papi-bot.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    with engine.begin() as connection:  # WAL mode: the -wal and -shm files exist now
        connection.execute(text("SELECT count(*) FROM unit"))
        assert _mode(database) == 0o600
        assert _mode(database.parent) == 0o700
        for side in database.parent.iterdir():
            assert _mode(side) == 0o600, side.name
    engine.dispose()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    database = tmp_path / "papi-bot.db"
    database.touch(mode=0o644)
    os.chmod(database, 0o644)
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect():  # tightened when opened, before SQLite reads it
        pass
    engine.dispose()
    assert _mode(database) == 0o600


def test_report_files_are_private(world: World, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    world.settings = Settings(app=AppConfig(data_dir=data_dir))
    rows = world.send(world.link("coord"), "/baocao")
    files = [Path(row.file_path) for row in rows if row.file_path]
    assert len(files) == 2
    assert _mode(data_dir) == 0o700 and _mode(data_dir / "reports") == 0o700
    for path in files:
        assert path.stat().st_size > 0
        assert _mode(path) == 0o600, path.name


def test_private_dir_leaves_existing_folders_alone(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    private_dir(tmp_path / "a" / "b")
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / "a") == 0o700 and _mode(tmp_path / "a" / "b") == 0o700


def test_private_file_keeps_content(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("kept")
    os.chmod(path, 0o664)
    private_file(path)
    assert path.read_text() == "kept" and _mode(path) == 0o600
