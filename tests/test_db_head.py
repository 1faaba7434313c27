"""``upgrade()`` leaves a database at head alone without Alembic (storage/db.py): the head
read from the migration files is Alembic's, and anything else goes through Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from storage.db import (
    at_file_head,
    current_revision,
    file_head,
    head_revision,
    is_current,
    make_engine,
    revisions,
    upgrade,
)
from tests.e2e.conftest import REPO_ROOT


def test_the_files_head_is_alembics(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert file_head() is not None
    assert file_head() == head_revision(engine)


def write(folder: Path, name: str, revision: str, down: str) -> None:
    (folder / name).write_text(
        f'"""A migration."""\n\nrevision: str = {revision}\ndown_revision = {down}\n'
        "branch_labels = None\n",
        encoding="utf-8",
    )


def test_two_heads_or_an_unreadable_file_leave_the_decision_to_alembic(tmp_path: Path) -> None:
    write(tmp_path, "a.py", '"a"', "None")
    write(tmp_path, "b.py", '"b"', '"a"')
    assert file_head(tmp_path) == "b"
    write(tmp_path, "c.py", '"c"', '"a"')  # a branch: two heads
    assert file_head(tmp_path) is None
    write(tmp_path, "d.py", '"d"', '("b", "c")')  # merged again
    assert file_head(tmp_path) == "d"
    write(tmp_path, "e.py", "make_id()", '"d"')  # not a literal
    assert file_head(tmp_path) is None


def test_only_a_database_at_head_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    assert at_file_head(engine) is False and not path.exists()  # asking creates no file
    upgrade(engine, "0012")
    assert at_file_head(engine) is False
    upgrade(engine)  # not at head: Alembic upgrades it
    assert current_revision(engine) == file_head() and at_file_head(engine) is True
    with engine.begin() as connection:  # a revision these files do not know (a newer build)
        connection.execute(text("UPDATE alembic_version SET version_num = 'zz99'"))
    assert at_file_head(engine) is False
    engine.dispose()


def test_the_revisions_are_alembics_whichever_way_they_are_read(tmp_path: Path) -> None:
    """Plain SQL at the head, Alembic elsewhere: the same pair either way."""
    path = tmp_path / "db.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    head = head_revision(engine)
    assert revisions(engine) == (None, head) and is_current(engine) is False
    assert not path.exists()  # asking creates no file
    upgrade(engine, "0012")
    assert revisions(engine) == ("0012", head) and is_current(engine) is False
    upgrade(engine)
    assert revisions(engine) == (head, head) and is_current(engine) is True
    with engine.begin() as connection:  # a newer build's revision: not current for this one
        connection.execute(text("UPDATE alembic_version SET version_num = 'zz99'"))
    assert is_current(engine) is False
    engine.dispose()


def test_upgrading_a_database_at_head_loads_no_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(make_engine(url))
    probe = (
        "import sys\nfrom storage.db import make_engine, upgrade\n"
        f"upgrade(make_engine({url!r}))\nprint('alembic' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
