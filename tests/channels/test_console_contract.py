"""The console channel's tables for the channel contract runner (typed lines in, text out)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.channels.base import OutgoingMessage, SendResult
from bot.channels.console import ConsoleChannel, console_inbound
from handlers.types import Attachment, Button, Inbound
from tests.channels.contract import (
    IncomingCase,
    MockPlatform,
    NetworkGuard,
    OutgoingCase,
    incoming_params,
    outgoing_params,
    run_incoming,
    run_outgoing,
)

NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)
MENU = (Button("Hoàn thành", "a:12:done"), Button("Vướng mắc", "a:12:blocked"))

INCOMING = [
    IncomingCase(
        "a typed line is NFC text",
        {"line": "12 hoa\u0300n tha\u0300nh"},  # decomposed
        expect={"text": "12 hoàn thành", "payload": None},
    ),
    IncomingCase(
        "a menu number presses that button",
        {"line": "2", "menu": MENU},
        expect={"payload": "a:12:blocked", "text": None},
    ),
    IncomingCase(
        "a number beyond the menu stays text",
        {"line": "3", "menu": MENU},
        expect={"payload": None, "text": "3"},
    ),
    IncomingCase(
        "#5 is task 5, not menu item 5",
        {"line": "#5 xong", "menu": MENU},
        expect={"text": "5 xong", "payload": None},
    ),
    IncomingCase(
        "/file PATH caption sends evidence",
        {"line": "/file /tmp/bien-ban.pdf 12"},
        expect={
            "text": "12",
            "attachments": (
                Attachment(kind="document", file_id="/tmp/bien-ban.pdf", file_name="bien-ban.pdf"),
            ),
        },
    ),
]

OUTGOING = [
    OutgoingCase(
        "plain text",
        OutgoingMessage(chat_id="u1", text="Xin chào"),
        requests=({"method": "print", "output": "Xin chào\n\n"},),
        external_id="c1",
    ),
    OutgoingCase(
        "buttons become a numbered menu",
        OutgoingMessage(chat_id="u1", text="Nhiệm vụ 12", buttons=(MENU,)),
        requests=(
            {"method": "print", "output": "Nhiệm vụ 12\n\n1 — Hoàn thành\n2 — Vướng mắc\n\n"},
        ),
        external_id="c1",
    ),
    OutgoingCase(
        "a file is shown by name and path",
        OutgoingMessage(chat_id="u1", text="Báo cáo", file_path="bc.xlsx", file_name="bc.xlsx"),
        files={"bc.xlsx": b"x"},
        requests=({"method": "print"},),
        external_id="c1",
    ),
]


class ConsoleHarness:
    name = "console"
    secret = ""
    modes: tuple[str, ...] = ("terminal",)

    def __init__(self) -> None:
        self.output = io.StringIO()

    async def receive(
        self, case: IncomingCase, platform: MockPlatform, mode: str
    ) -> tuple[int, list[Inbound]]:
        body = case.body
        inbound = console_inbound(body["line"], "u1", "u1:run:1", NOW, body.get("menu", ()))
        return 200, [inbound]

    async def send(self, message: OutgoingMessage, platform: MockPlatform) -> SendResult:
        return await ConsoleChannel(self.output).send(message)

    def requests(self, platform: MockPlatform) -> list[dict[str, Any]]:
        printed = self.output.getvalue()
        return [{"method": "print", "output": printed}] if printed else []


@pytest.mark.parametrize(("case", "mode"), incoming_params(ConsoleHarness.modes, INCOMING))
async def test_incoming(
    case: IncomingCase, mode: str, caplog: pytest.LogCaptureFixture, network_guard: NetworkGuard
) -> None:
    await run_incoming(ConsoleHarness(), case, caplog, mode)


@pytest.mark.parametrize("case", outgoing_params(OUTGOING))
async def test_outgoing(
    case: OutgoingCase,
    caplog: pytest.LogCaptureFixture,
    network_guard: NetworkGuard,
    tmp_path: Path,
) -> None:
    harness = ConsoleHarness()
    await run_outgoing(harness, case, caplog, tmp_path)
    if case.message.file_path:
        assert str(tmp_path / "bc.xlsx") in harness.output.getvalue()
