"""Several Zalo bots at the edges: ``serve`` refuses a bot bound to an unknown unit before any
channel starts and logs a bot whose token variable is unset; ``papi-bot invite`` names the
official's bot; the weekly digest shows a bot near its user limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot.app import serve
from bot.channels.base import StartupError
from bot.cli import app as cli_app
from bot.config import Settings
from bot.config_bots import ZaloBotBinding
from bot.scheduler.sweep import run_digests
from kernel.clock import VN_TZ, FixedClock
from storage.models import OutboxMessage
from tests.channels.zalo.test_zalo_bots import bots_settings
from tests.handlers.helpers import World, make_world

MONDAY = datetime(2026, 6, 22, 9, 0, tzinfo=VN_TZ)  # after the 07:30 digest, a working day


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine, MONDAY)


class NoScheduler:
    def start(self) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


NO_SCHEDULER: Callable[..., Any] = lambda *args: NoScheduler()  # noqa: E731


async def test_a_bot_bound_to_an_unknown_unit_stops_the_start(world: World) -> None:
    base = bots_settings()
    settings = base.model_copy(
        update={
            "zalo": base.zalo.model_copy(
                update={"bots": [ZaloBotBinding(name="xa-z", unit="Xã Không Có", token_env="T")]}
            )
        }
    )
    with pytest.raises(StartupError, match=r"zalo:xa-z: .*'Xã Không Có'"):
        await serve(
            world.engine,
            settings,
            FixedClock(MONDAY),
            asyncio.Event(),
            scheduler_factory=NO_SCHEDULER,
        )


async def test_a_bot_without_its_token_is_logged_and_does_not_run(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    settings = bots_settings(default=False, tokens=())  # no Zalo bot has a token
    with caplog.at_level(logging.WARNING, logger="papi_bot"), pytest.raises(StartupError):
        await serve(
            world.engine,
            settings,
            FixedClock(MONDAY),
            asyncio.Event(),
            scheduler_factory=NO_SCHEDULER,
        )  # nothing is left to run
    notes = [r.getMessage() for r in caplog.records if "is not set" in r.getMessage()]
    assert notes == [
        "zalo:xa-a: T_A is not set, so this bot is disabled; officials of 'DEMO-X01' are "
        "sent to the nearest other Zalo bot",
        "zalo:xa-b: T_B is not set, so this bot is disabled; officials of 'xa hoa thuan' are "
        "sent to the nearest other Zalo bot",
    ]


def test_papi_bot_invite_names_the_officials_bot(
    world: World, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[zalo]\nbot_label = "PAPI Tỉnh"\n\n'
        '[[zalo.bots]]\nname = "xa-a"\nunit = "DEMO-X01"\ntoken_env = "ZALO_BOT_TOKEN_XA_A"\n'
        'label = "PAPI An Lạc"\nlink = "https://zalo.me/s/an-lac"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1000:default")
    monkeypatch.setenv("ZALO_BOT_TOKEN_XA_A", "2001:bound")
    runner = CliRunner()
    bound = runner.invoke(cli_app, ["invite", world.people["off1a"].phone])
    assert bound.exit_code == 0, bound.output
    assert "Zalo: gửi mã cho bot “PAPI An Lạc” (https://zalo.me/s/an-lac)" in bound.output
    other = runner.invoke(cli_app, ["invite", world.people["off2a"].phone])
    assert "Zalo: gửi mã cho bot “PAPI Tỉnh”" in other.output  # X02 has no bot: the default
    monkeypatch.delenv("ZALO_BOT_TOKEN")
    monkeypatch.delenv("ZALO_BOT_TOKEN_XA_A")
    plain = runner.invoke(cli_app, ["invite", world.people["off1a"].phone])
    assert plain.exit_code == 0 and "Zalo" not in plain.output  # no Zalo bot runs


def test_the_digest_shows_a_bot_near_its_user_limit(world: World) -> None:
    settings: Settings = bots_settings(users=2)
    coordinator = world.link("coord")  # reads the digest on Telegram
    world.link("off1a", channel="zalo:xa-a")
    world.link("off1b", channel="zalo:xa-a")
    world.link("off2a", channel="zalo:xa-b")  # 1 of 2: below 80 %
    run_digests(world.engine, settings, FixedClock(MONDAY))
    with Session(world.engine) as session:
        texts = session.exec(
            select(OutboxMessage.text)
            .where(OutboxMessage.kind == "digest", OutboxMessage.chat_id == coordinator)
            .order_by(col(OutboxMessage.id))
        ).all()
    digest = "\n".join(texts)
    assert "Số người dùng của mỗi bot Zalo" in digest, digest
    assert "zalo:xa-a: 2/2 người dùng (100%)" in digest
    assert "zalo:xa-b" not in digest
    assert "bound" not in digest  # the settings hold the tokens; the digest never shows them


def test_the_console_invite_sheet_carries_the_bot_line() -> None:
    import io

    from docx import Document

    from bot.web.invites import SheetRow, write_sheet

    row = SheetRow("Lê Thị Hoa", "Xã An Lạc", "official", "ABCD-EFGH", MONDAY, "Zalo: bot “A”")
    document = Document(io.BytesIO(write_sheet("Mã mời", [row], "")))
    cells = "\n".join(cell.text for cell in document.tables[0].rows[1].cells)
    assert "ABCD-EFGH" in cells and "Zalo: bot “A”" in cells


async def test_bots_without_tokens_are_named_before_the_console_demo(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    import io

    from bot.app import main

    settings = bots_settings(default=False, tokens=())
    with caplog.at_level(logging.WARNING, logger="papi_bot"):
        await main(world.engine, settings, FixedClock(MONDAY), io.StringIO(""), io.StringIO())
    assert any("zalo:xa-a: T_A is not set" in r.getMessage() for r in caplog.records)
