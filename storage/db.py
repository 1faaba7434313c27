"""Engine, sessions and schema migrations.

SQLite is opened in WAL mode with foreign keys on and a busy timeout, so the bot's worker,
scheduler and the admin CLI can share one file. PostgreSQL is the same code with another URL.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

from kernel.private import private_file, tighten

if TYPE_CHECKING:  # Alembic (~80 ms of imports) is loaded only by the functions that migrate
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL is durable across app crashes
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; for SQLite the file (0600) and its folder (0700) are created
    when it is first connected to (not before: asking a missing file its revision must not
    create it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            event.listen(engine, "do_connect", _private_sqlite_file(Path(database)))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, echo=echo, pool_pre_ping=True)
    except ModuleNotFoundError as exc:  # e.g. psycopg after a plain `pip install papi-bot`
        raise MissingDriverError(exc.name or parsed.get_driver_name()) from exc


class MissingDriverError(RuntimeError):
    """The database URL names a driver that is not installed; ``extra`` installs it."""

    def __init__(self, module: str, extra: str = "postgres") -> None:
        super().__init__(f"database driver {module!r} is not installed")
        self.module = module
        self.extra = extra


def _private_sqlite_file(path: Path) -> Callable[..., None]:
    def before_connect(*_args: Any) -> None:
        # Created 0600 in a 0700 folder before SQLite opens it; SQLite gives its -wal and
        # -shm files the database file's mode.
        private_file(path)
        for suffix in ("-wal", "-shm", "-journal"):
            tighten(Path(f"{path}{suffix}"))

    return before_connect


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Create or upgrade the schema; safe to run again on an up-to-date database.

    A database already at the one head of the migration files is left alone without loading
    Alembic (≈ 90 ms of imports and a migration context at every ``papi-bot run``)."""
    if revision == "heads" and at_file_head(engine):
        return
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


def file_head(versions: Path = MIGRATIONS_DIR / "versions") -> str | None:
    """The single head of ``migrations/versions`` read from the files' ``revision`` and
    ``down_revision`` lines (what Alembic's ``ScriptDirectory.get_heads`` finds); None when
    there are several heads or a file cannot be read this way (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        source = path.read_text("utf-8")
        found = {match[1]: match[2] for match in _ASSIGNMENT.finditer(source)}
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found.get("down_revision", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(item) for item in down)
        elif down is not None:
            return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_file_head(engine: Engine) -> bool:
    """The database records exactly the migration files' single head (plain SQL, no Alembic)."""
    head = file_head()
    if head is None or _missing_sqlite_file(engine):
        return False
    try:
        with engine.connect() as connection:
            applied = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no table yet, or no connection: Alembic will say which
        return False
    return [row[0] for row in applied] == [head]


def _missing_sqlite_file(engine: Engine) -> bool:
    """A SQLite file that does not exist yet (connecting would create it, empty)."""
    url = engine.url
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    return not database.startswith("file:") and not Path(database).exists()


def current_revision(engine: Engine) -> str | None:
    """The applied revision(s), "+"-joined when branches are applied side by side; None for
    a database never initialised (a missing SQLite file is not created by asking)."""
    if _missing_sqlite_file(engine):
        return None
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return "+".join(sorted(heads)) or None


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_alembic_config(engine)).get_heads()
    return "+".join(sorted(heads)) or None


def revisions(engine: Engine) -> tuple[str | None, str | None]:
    """The applied revision and the latest one (``current_revision``, ``head_revision``).

    Plain SQL when the database is at the migration files' head, the everyday case; Alembic
    (≈ 100 ms of imports) only to name what differs."""
    if at_file_head(engine):
        head = file_head()
        return head, head
    return current_revision(engine), head_revision(engine)


def is_current(engine: Engine) -> bool:
    """The database is initialised and at the latest revision (see ``revisions``)."""
    revision, head = revisions(engine)
    return revision is not None and revision == head
