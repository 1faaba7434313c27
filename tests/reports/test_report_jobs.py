"""/baocao is answered at once and rendered after the commit: the database's write lock is
never held while openpyxl, python-docx and matplotlib run, and a job a restart interrupted is
rendered when the bot comes back."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.config import AppConfig, Settings
from bot.pipeline import apply_inbound
from bot.reports import jobs, requests
from handlers.types import Inbound
from kernel.clock import FixedClock
from storage.models import OutboxMessage, ReportJob
from tests.handlers.helpers import World, make_world

_keys = itertools.count(1)


def _inbound(world: World, user: str, text: str) -> Inbound:
    number = next(_keys)
    return Inbound(
        channel="telegram",
        external_user_id=user,
        chat_id=user,
        update_key=f"job{number}",
        received_at=world.now,
        message_id=f"jm{number}",
        text=text,
    )


def _rows(world: World, ids: list[int]) -> list[OutboxMessage]:
    with world.session() as session:
        return list(session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))))


def _jobs(world: World) -> list[ReportJob]:
    with world.session() as session:
        return list(session.exec(select(ReportJob).order_by(col(ReportJob.id))))


@pytest.fixture
def data_world(engine: Engine, clock: FixedClock, tmp_path: Path) -> World:
    world = make_world(engine, clock.now())
    world.settings = Settings(app=AppConfig(data_dir=tmp_path / "data"))
    return world


def test_baocao_is_acknowledged_and_left_as_a_job(data_world: World, tmp_path: Path) -> None:
    world = data_world
    coord = world.link("coord")
    woken: list[bool] = []
    ids = apply_inbound(
        world.engine,
        _inbound(world, coord, "/baocao"),
        world.settings,
        world.now,
        on_report=lambda: woken.append(True),
    )
    [ack] = _rows(world, ids or [])
    assert ack.text.startswith("Đang chuẩn bị báo cáo")
    assert ack.file_path is None
    [job] = _jobs(world)
    assert (job.status, job.chat_id) == ("pending", coord)
    assert woken == [True]  # the report worker is told after the commit
    assert not (tmp_path / "data" / "reports").exists()  # nothing rendered in the transaction


def test_other_officials_are_answered_while_the_report_renders(
    data_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = data_world
    coord, official = (
        world.link("coord"),
        world.link(next(name for name in world.people if name.startswith("off"))),
    )
    apply_inbound(world.engine, _inbound(world, coord, "/baocao"), world.settings, world.now)
    rendering, release = threading.Event(), threading.Event()
    real_render = requests.render_request

    def slow_render(*args: object, **kwargs: object) -> object:
        rendering.set()
        assert release.wait(20), "the test did not release the renderer"
        return real_render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "render_request", slow_render)  # as bot.reports.jobs calls it
    queued: list[int] = []
    renderer = threading.Thread(
        target=lambda: queued.extend(
            jobs.render_pending(world.engine, world.settings, lambda: world.now)
        )
    )
    renderer.start()
    try:
        assert rendering.wait(10)
        # While the files are being made, another official's reply is applied and committed.
        answer = apply_inbound(
            world.engine, _inbound(world, official, "/help"), world.settings, world.now
        )
        assert answer, "an official waited for the report"
    finally:
        release.set()
        renderer.join(30)
    files = [row for row in _rows(world, queued) if row.file_path]
    assert len(files) == 2 and all(row.chat_id == coord for row in files)
    assert [job.status for job in _jobs(world)] == ["done"]


def test_a_job_left_by_a_restart_is_rendered_once(data_world: World) -> None:
    world = data_world
    coord = world.link("coord")
    apply_inbound(world.engine, _inbound(world, coord, "/baocao"), world.settings, world.now)
    # "crash": nobody rendered it; the next start does, and a second pass finds nothing.
    first = jobs.render_pending(world.engine, world.settings, lambda: world.now)
    again = jobs.render_pending(world.engine, world.settings, lambda: world.now)
    assert len([row for row in _rows(world, first) if row.file_path]) == 2
    assert again == []


def test_a_report_that_fails_gets_an_apology_and_is_not_retried(
    data_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = data_world
    coord = world.link("coord")
    apply_inbound(world.engine, _inbound(world, coord, "/baocao"), world.settings, world.now)

    def broken(*_args: object, **_kwargs: object) -> object:
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "render_request", broken)
    [row] = _rows(world, jobs.render_pending(world.engine, world.settings, lambda: world.now))
    assert row.text.startswith("Xin lỗi, chưa lập được báo cáo")
    [job] = _jobs(world)
    assert (job.status, job.error) == ("failed", "OSError")
