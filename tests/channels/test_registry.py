"""The channel registry: declared capabilities, channels chosen by their secrets, several at
once in one process, and no core module that knows a platform or its limits."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import StartupError, main, serve
from bot.channels.base import Capabilities, OutgoingMessage, RateLimits, SendResult
from bot.channels.kind import ChannelDeps, ChannelKind, Receiving
from bot.channels.registry import ChannelRegistry, default_registry
from bot.config import Secrets, Settings, TelegramConfig, ZaloConfig
from handlers.types import MAX_PAYLOAD_BYTES, Inbound
from kernel.clock import FixedClock
from storage.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]


def with_secrets(**values: str) -> Settings:
    secrets = Secrets(**{name: SecretStr(value) for name, value in values.items()})
    return Settings(secrets=secrets)


def test_every_channel_declares_its_capabilities() -> None:
    settings = Settings(
        telegram=TelegramConfig(global_rate_per_second=20, per_chat_rate_per_second=0.5),
        zalo=ZaloConfig(global_rate_per_second=3, per_chat_rate_per_second=1),
    )
    registry = default_registry()
    assert registry.names() == ["console", "telegram", "zalo", "zalo_oa"]
    telegram = registry.capabilities("telegram", settings)
    assert (telegram.buttons, telegram.edits, telegram.documents) == (True, True, True)
    assert telegram.rates == RateLimits(20, 0.5)
    zalo = registry.capabilities("zalo", settings)
    assert (zalo.buttons, zalo.edits, zalo.documents, zalo.photo_upload) == (False,) * 4
    assert zalo.text_limit < telegram.text_limit and zalo.rates == RateLimits(3, 1)
    assert registry.capabilities("console", settings).rates is None
    oa = registry.kind("zalo_oa")
    assert oa.token_refresh and oa.receiving(settings) == ("webhook",)
    assert registry.kind("telegram").webhook_route == "/telegram/webhook"


def test_every_payload_the_conversation_makes_fits_every_channel_with_buttons() -> None:
    settings = Settings()
    for name in default_registry().names():
        caps = default_registry().capabilities(name, settings)
        if caps.buttons:
            assert caps.payload_bytes is not None and caps.payload_bytes >= MAX_PAYLOAD_BYTES
        else:
            assert caps.payload_bytes is None  # a numbered menu carries no payload


def test_channels_are_chosen_by_the_secrets_that_are_set() -> None:
    registry = default_registry()
    assert registry.enabled(Settings()) == []
    names = [k.name for k in registry.enabled(with_secrets(telegram_bot_token="1:x"))]
    assert names == ["telegram"]
    zalo_only = with_secrets(zalo_bot_token="1:z")
    assert [k.name for k in registry.enabled(zalo_only)] == ["zalo"]
    assert registry.declared_but_missing(zalo_only) == []
    oa_only = with_secrets(zalo_oa_app_id="4321")
    assert [k.name for k in registry.enabled(oa_only)] == ["zalo_oa"]


async def test_a_channel_configured_halfway_refuses_to_start(
    engine: Engine, clock: FixedClock
) -> None:
    """Only ZALO_BOT_TOKEN set (webhook mode, no address, no secret): a clear refusal before
    any call to Zalo, not a console chat on a server's stdin."""
    settings = with_secrets(zalo_bot_token="1:z")
    stdout = io.StringIO()
    with pytest.raises(StartupError, match="zalo"):
        await main(engine, settings, clock, io.StringIO(), stdout)
    assert stdout.getvalue() == ""


# --- several channels in one process --------------------------------------------------------


class FakeRunning:
    """A started channel that records what it sent and receives until stopped."""

    def __init__(self, name: str, deps: ChannelDeps, log: list[str]) -> None:
        self.name = name
        self.deps = deps
        self.log = log
        self.sent: list[OutgoingMessage] = []
        self.sender = self

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(external_message_id=f"{self.name}-{len(self.sent)}")

    async def receive(self, stop: asyncio.Event) -> None:
        self.log.append(f"{self.name} receiving")
        await stop.wait()

    async def close(self) -> None:
        self.log.append(f"{self.name} closed")


def fake_kind(
    name: str, buttons: bool, log: list[str], made: dict[str, FakeRunning]
) -> ChannelKind:
    def caps(settings: Settings) -> Capabilities:
        limit = 100
        return Capabilities(limit, buttons, buttons, True, True, 64 if buttons else None, None)

    def receiving(settings: Settings) -> tuple[Receiving, ...]:
        return ("webhook",)

    async def start(deps: ChannelDeps) -> FakeRunning:
        made[name] = FakeRunning(name, deps, log)
        return made[name]

    return ChannelKind(name, caps, receiving, enabled=lambda s: True, start=start)


class FakeScheduler:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def start(self) -> None:
        self.log.append("scheduler started")

    def shutdown(self, wait: bool = True) -> None:
        self.log.append("scheduler stopped")


async def test_two_channels_run_side_by_side_with_one_outbox(
    engine: Engine, clock: FixedClock
) -> None:
    log: list[str] = []
    made: dict[str, FakeRunning] = {}
    registry = ChannelRegistry(
        [fake_kind("alpha", True, log, made), fake_kind("beta", False, log, made)]
    )
    with Session(engine) as session:
        for channel in ("alpha", "beta"):
            session.add(
                OutboxMessage(
                    channel=channel,
                    chat_id="c1",
                    text="Nhiệm vụ #7",
                    buttons=[[{"label": "Hoàn thành", "payload": "a:7:done"}]],
                    next_attempt_at=clock.now(),
                )
            )
        session.commit()
    stop = asyncio.Event()
    factory: Callable[..., Any] = lambda *args: FakeScheduler(log)  # noqa: E731
    serving = asyncio.create_task(
        serve(engine, Settings(), clock, stop, registry=registry, scheduler_factory=factory)
    )
    for _ in range(500):
        if len(made) == 2 and made["alpha"].sent and made["beta"].sent:
            break
        await asyncio.sleep(0.01)
    # Inbounds of each channel go through the same pipeline (deps.apply), menus resolved
    # where the channel has no buttons (while serving: its database thread ends with it):
    inbound = Inbound("beta", "u1", "c1", "k1", clock.now(), "k1", text="hello")
    assert made["beta"].deps.apply is made["alpha"].deps.apply
    assert await made["beta"].deps.apply(inbound) is not None
    stop.set()
    await asyncio.wait_for(serving, 10)
    assert made["alpha"].sent[0].buttons  # a channel with buttons gets them
    assert made["beta"].sent[0].text == "Nhiệm vụ #7\n\n1 — Hoàn thành"  # the other a menu
    assert made["beta"].sent[0].buttons == ()
    assert log[:3] == ["scheduler started", "alpha receiving", "beta receiving"]
    assert log[-3:] == ["scheduler stopped", "alpha closed", "beta closed"]
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.text == "Nhiệm vụ #7")).all()
    assert {(row.channel, row.status) for row in rows} == {("alpha", "sent"), ("beta", "sent")}


# --- no core module knows a platform --------------------------------------------------------

CORE = ["handlers", "storage", "kernel", "bot/pipeline.py", "bot/scheduler"]
CORE_FILES = [
    "bot/outbox.py",
    "bot/outbox_store.py",
    "bot/outbox_pacing.py",
    "bot/outbox_send.py",
    "bot/outbox_batch.py",
    "bot/applier.py",
    "bot/dbprocess.py",
    "bot/dbthreads.py",
]
SCHEMA_WIDTH = re.compile(r"max_length=64\b")  # a column's width, not a platform's limit


def core_files() -> list[Path]:
    files = [ROOT / name for name in CORE_FILES]
    for name in CORE:
        path = ROOT / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return [f for f in files if "migrations" not in f.parts]


def test_no_core_module_names_a_platform_or_hard_codes_its_limits() -> None:
    found = []
    for path in core_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = SCHEMA_WIDTH.sub("", line)
            if re.search(r"telegram", code, re.IGNORECASE) or re.search(
                r"\b(4096|3800|64)\b", code
            ):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert len(core_files()) > 50
    assert found == []
