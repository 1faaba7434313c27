"""Storage is the only writer, watched at run time: while a whole conversation runs
(invite, task views, buttons, quick replies, a blocking reason, a note, evidence, a chair
assigning, /lang, /tonghop, /baocao), a reminder sweep and a plan re-import, no column of a
stored row is set from code outside ``storage/``. The source scan
(``tests/test_storage_writes.py``) catches adds, deletes and SQL writes; this catches the
other way to write: changing an attribute of a row the session holds and letting the commit
flush it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlmodel import SQLModel

from bot.config import AppConfig, Settings
from bot.demo import PROVINCE_CODE, SHIPPED_PLAN
from bot.planimport import parse_plan, store_plan
from bot.scheduler.sweep import sweep
from handlers import payloads
from handlers.types import Attachment
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.invites import create_invite
from storage.models import Official, Role
from storage.units import get_unit_by_code
from tests.handlers.helpers import World

ROOT = Path(__file__).resolve().parent.parent.parent
WRITERS = (ROOT / "storage", ROOT / "tests")  # tests set up their worlds directly
# The project's own packages; a virtual environment inside the checkout (.venv, CI's
# .venv-test) holds other people's code, whatever its folder is called.
OWN_CODE = tuple(ROOT / package for package in ("bot", "handlers", "storage", "kernel", "tests"))


def _assigner() -> Path | None:
    """The first frame of this repository's own code that set the attribute."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if any(path.is_relative_to(own) for own in OWN_CODE):
            return path
        frame = frame.f_back
    return None


@pytest.fixture
def watched() -> Iterator[list[str]]:
    found: list[str] = []

    def on_set(target: Any, value: Any, old: Any, initiator: Any) -> Any:
        state = sa_inspect(target)
        if state.persistent or state.pending:  # a row the session will write
            path = _assigner()
            if path is not None and not any(path.is_relative_to(w) for w in WRITERS):
                found.append(f"{path.relative_to(ROOT)}: {type(target).__name__}.{initiator.key}")
        return value

    attributes = [
        getattr(model, column.key)
        for model in SQLModel.__subclasses__()
        if hasattr(model, "__table__")
        for column in model.__table__.columns
    ]
    for attribute in attributes:
        event.listen(attribute, "set", on_set, retval=True)
    yield found
    for attribute in attributes:
        event.remove(attribute, "set", on_set)


def test_a_whole_conversation_writes_only_through_storage(
    world: World, watched: list[str], tmp_path: Path
) -> None:
    world.settings = Settings(app=AppConfig(data_dir=tmp_path))
    with session_scope(world.engine) as session:
        code = create_invite(session, world.people["off1a"].id or 0, world.now, 14).code
    assert "Lê Thị Hoa" in world.texts("tg-1", code)
    first, second = world.assignments_of("off1a")[:2]
    world.send("tg-1", payload=payloads.task_action(first, "view"))
    world.send("tg-1", payload=payloads.task_action(first, "progress"))
    world.send("tg-1", "40% đã họp dân")
    world.send("tg-1", f"{second} vướng")
    world.send("tg-1", "thiếu kinh phí")
    world.send("tg-1", payload=payloads.task_action(second, "note"))
    world.send("tg-1", "đã xin ý kiến huyện")
    world.send("tg-1", attachments=(Attachment("photo", "AgAC1"),))
    world.send("tg-1", f"{first} xong")
    world.send("tg-1", "/lang en")
    chair = world.link("chair1")
    open_tasks = world.unit_assignments(f"{PROVINCE_CODE}-X01")
    world.send(chair, f"/giao {open_tasks[-1]} 1 2")
    world.send(chair, "/xa")
    world.send(chair, "/baocao")
    coordinator = world.link("coord")
    world.send(coordinator, "/tonghop")
    written = sweep(world.engine, world.settings, FixedClock(world.now + timedelta(days=400)))
    assert written.messages > 0  # reminders and escalations were written
    with session_scope(world.engine) as session:
        province = get_unit_by_code(session, PROVINCE_CODE)
        assert province is not None
        store_plan(session, parse_plan(SHIPPED_PLAN), province, replace=True)
    with world.session() as session:
        official = session.get(Official, world.people["off1a"].id)
        assert official is not None and official.locale == "en"
        assert official.role is Role.OFFICIAL
    assert world.assignment(first).status == "done"
    assert watched == []


def test_the_watch_sees_a_write_from_outside_storage(world: World, watched: list[str]) -> None:
    """The same watch, shown failing: this module is outside storage/ (and tests/ is only
    allowed for setting up), so a row changed from code under handlers/ would be named."""
    from handlers import settings as user_settings

    with world.session() as session:
        official = session.get(Official, world.people["off1a"].id)
        assert official is not None
        exec(  # compiled as if it were a line of handlers/settings.py
            compile("official.locale = 'en'", user_settings.__file__, "exec"),
            {"official": official},
        )
    assert watched == ["handlers/settings.py: Official.locale"]
