"""The console channel: numbered menus, typed lines to Inbounds, and the whole loop."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels import menu
from bot.channels.base import OutgoingMessage
from bot.channels.console import (
    ConsoleChannel,
    capabilities,
    console_inbound,
    menu_payload,
    run_console,
)
from bot.config import Settings
from handlers.types import Button
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import Assignment, ChannelIdentity, Evidence, OutboxMessage, ProgressUpdate

MENU = (
    (Button("Đang thực hiện", "a:7:progress"), Button("Hoàn thành", "a:7:done")),
    (Button("Vướng mắc", "a:7:blocked"),),
)


async def test_send_renders_buttons_as_a_numbered_menu() -> None:
    out = io.StringIO()
    channel = ConsoleChannel(out)
    result = await channel.send(OutgoingMessage(chat_id="c1", text="Nhiệm vụ #7", buttons=MENU))
    assert out.getvalue() == "Nhiệm vụ #7\n\n1 — Đang thực hiện\n2 — Hoàn thành\n3 — Vướng mắc\n\n"
    assert result.external_message_id
    second = await channel.send(OutgoingMessage(chat_id="c1", text="Đã ghi nhận."))
    assert second.external_message_id != result.external_message_id
    assert capabilities(Settings()).buttons is False and channel.name == "console"
    # Which menu is open in which chat is kept in the database: tests/channels/test_menu.py.


def test_typed_lines_become_inbounds(clock: FixedClock) -> None:
    menu = [b for row in MENU for b in row]
    pressed = console_inbound("2", "u", "k1", clock.now(), menu)
    assert (pressed.payload, pressed.text) == ("a:7:done", None)
    typed = console_inbound("12 xong", "u", "k2", clock.now(), menu)
    assert (typed.payload, typed.text, typed.channel) == (None, "12 xong", "console")
    hashed = console_inbound("#2 xong", "u", "k3", clock.now(), menu)
    assert (hashed.payload, hashed.text) == (None, "2 xong")
    out_of_menu = console_inbound("9", "u", "k4", clock.now(), menu)
    assert (out_of_menu.payload, out_of_menu.text) == (None, "9")
    sent = console_inbound("/file /tmp/bien-ban.pdf 7 họp dân", "u", "k5", clock.now())
    assert sent.attachments[0].file_name == "bien-ban.pdf"
    assert sent.text == "7 họp dân"
    assert menu_payload(menu, " 1 ") == "a:7:progress"


def _deliverer(engine: Engine, channel: ConsoleChannel, clock: FixedClock):  # type: ignore[no-untyped-def]
    """A stand-in for the outbox worker: send pending console rows in order, mark them sent."""

    async def deliver() -> int:
        with session_scope(engine) as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "console")
                .where(OutboxMessage.status == "pending")
                .order_by(col(OutboxMessage.id))
            ).all()
            for row in rows:
                buttons = tuple(
                    tuple(Button(b["label"], b["payload"]) for b in line)
                    for line in row.buttons or []
                )
                result = await channel.send(OutgoingMessage(row.chat_id, row.text, buttons))
                row.status, row.external_message_id = "sent", result.external_message_id
                session.add(row)
                # as the outbox does on a channel without buttons: this is the chat's menu now
                menu.remember(
                    session,
                    "console",
                    row.chat_id,
                    buttons,
                    result.external_message_id,
                    clock.now(),
                )
            return len(rows)

    return deliver


async def _run(engine: Engine, clock: FixedClock, lines: list[str]) -> str:
    stdin, stdout = io.StringIO("\n".join(lines) + "\n"), io.StringIO()
    deliver = _deliverer(engine, ConsoleChannel(stdout), clock)
    await run_console(engine, Settings(), clock, stdin, stdout, deliver)
    return stdout.getvalue()


async def test_console_loop_end_to_end(engine: Engine, clock: FixedClock) -> None:
    output = await _run(
        engine,
        clock,
        [
            "0",
            "4",
            "/nhiemvu",
            "1",
            "2",
            "/nhiemvu",
            "1",
            "5",
            "/file /tmp/anh.jpg",
            "50%",
            "/quit",
            "/help",
        ],
    )
    assert "dữ liệu mẫu" in output
    assert "1. Trần Văn Bình — Chủ tịch UBND xã, Xã An Lạc" in output
    assert "10. Ngô Thị Thu — Cán bộ đầu mối, Sở Nội vụ" in output
    assert "Vui lòng gõ một số từ 1 đến 10." in output  # "0" is not a choice
    assert "Nhiệm vụ chưa hoàn thành: 2" in output
    assert "1 — #" in output  # the task list's buttons as a menu
    assert "Chủ trì: Sở Nội vụ" in output  # "1" opened the first task
    assert "Hoàn thành. Đã ghi nhận." in output  # "2" pressed Done
    with Session(engine) as session:
        identity = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.channel == "console")
        ).one()
        done = session.exec(select(Assignment).where(Assignment.status == "done")).all()
        updates = session.exec(select(ProgressUpdate)).all()
        evidence = session.exec(select(Evidence)).all()
    assert identity.display_name == "Lê Thị Hoa"
    assert len(done) == 1
    assert [(u.channel, u.status, u.percent) for u in updates] == [
        ("console", "done", 100),
        ("console", "in_progress", 50),
    ]
    assert evidence and evidence[0].file_name == "anh.jpg"
    assert "Các chức năng" not in output  # nothing is read after /quit


async def test_second_run_reuses_demo_data_and_identity(engine: Engine, clock: FixedClock) -> None:
    await _run(engine, clock, ["4", "/nhiemvu"])
    clock.advance(timedelta(minutes=5))
    output = await _run(engine, clock, ["4", "/help"])
    assert "dữ liệu mẫu" not in output
    assert "Các chức năng" in output
    with Session(engine) as session:
        identities = session.exec(select(ChannelIdentity)).all()
    assert len(identities) == 1


@pytest.mark.parametrize("lines", [[], ["4"]])
async def test_eof_ends_the_loop(engine: Engine, clock: FixedClock, lines: list[str]) -> None:
    stdin, stdout = io.StringIO("\n".join(lines)), io.StringIO()
    deliver = _deliverer(engine, ConsoleChannel(stdout), clock)
    await run_console(engine, Settings(), clock, stdin, stdout, deliver)
    assert "Trần Văn Bình" in stdout.getvalue()
