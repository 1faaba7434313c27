"""Backing up and restoring a SQLite database with SQLite's online backup API.

The backup API copies a consistent snapshot page by page while the bot keeps running (WAL
readers and writers are not blocked for long), which a plain file copy of a WAL database does
not guarantee. PostgreSQL has its own tools (pg_dump / pg_restore); nothing here speaks to it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url

from kernel.private import private_dir, private_file
from storage.db import MIGRATIONS_DIR

PAGES_PER_STEP = 256  # small steps let the running bot write between them


class BackupError(ValueError):
    """A backup or restore that cannot be done; the message says why (English, for the CLI to
    choose its own words by ``reason``)."""

    def __init__(self, reason: str, path: Path | None = None, revision: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.path = path
        self.revision = revision


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    revision: str


def sqlite_path(engine: Engine) -> Path | None:
    """The SQLite file behind ``engine``; None for another database or an in-memory one."""
    url = make_url(str(engine.url))
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def default_backup_path(database: Path, now: datetime) -> Path:
    """``<folder>/backups/<name>-YYYYmmdd-HHMMSS.db`` beside the database (same private
    folder, so the copy is as protected as the original)."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    folder = database.parent / "backups"
    candidate = folder / f"{database.stem}-{stamp}.db"
    number = 1
    while candidate.exists():  # two backups in one second (a restore right after a backup)
        candidate = folder / f"{database.stem}-{stamp}-{number}.db"
        number += 1
    return candidate


def backup_sqlite(database: Path, out: Path) -> BackupInfo:
    """Copy the live database ``database`` into the new file ``out`` (0600, never
    overwritten) and return its revision."""
    if not database.exists():
        raise BackupError("missing-database", database)
    if out.exists():
        raise BackupError("exists", out)
    if not out.parent.exists() and out.parent != database.parent / "backups":
        raise BackupError("missing-folder", out.parent)
    private_dir(out.parent)
    private_file(out)  # 0600 before a single page is written
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    target = sqlite3.connect(out)
    try:
        source.backup(target, pages=PAGES_PER_STEP)
    except BaseException:
        target.close()
        out.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    target.close()
    return BackupInfo(out, file_revision(out))


def file_revision(path: Path) -> str:
    """The Alembic revision recorded in the SQLite file ``path``, or a BackupError saying
    the file is not a papi-bot database."""
    if not path.is_file():
        raise BackupError("missing-file", path)
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            connection.execute("SELECT count(*) FROM official").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "no such table"
        raise BackupError("not-papi-bot", path) from exc
    if not rows:
        raise BackupError("not-papi-bot", path)
    return "+".join(sorted(str(row[0]) for row in rows))


def check_known_revision(path: Path) -> str:
    """``path``'s revision if this version of papi-bot knows it (at head or older)."""
    revision = file_revision(path)
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    known = {script.revision for script in scripts.walk_revisions()}
    if any(part not in known for part in revision.split("+")):
        raise BackupError("unknown-revision", path, revision)
    return revision


def restore_sqlite(source: Path, database: Path) -> None:
    """Replace the contents of ``database`` by those of the backup ``source``, through the
    backup API so open WAL connections see the new pages, not a swapped-out file."""
    private_file(database)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(database, timeout=30)
    try:
        reader.backup(writer)
    finally:
        reader.close()
        writer.close()
