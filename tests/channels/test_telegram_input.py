"""Issue 12: Telegram input that must not stop the bot or reach the wrong place.

Malformed updates are recorded and skipped (polling goes on), text is sanitised, the dedupe
key survives the Bot API's update ids starting again, and group chats are refused. Every test
runs the real runtime (``getMe``, long polling) against the fake Bot API and the real pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.app import inbound_applier
from bot.channels.kind import ChannelDeps
from bot.channels.telegram import runtime as telegram_runtime
from bot.config import AppConfig, FloodConfig, Secrets, Settings, TelegramConfig
from bot.outbox import OutboxWorker
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import (
    ChannelIdentity,
    ConversationState,
    Official,
    ProcessedUpdate,
    ProgressUpdate,
)
from storage.queue import QueuedRow
from tests.fakes.fake_telegram import FakeTelegram, SentMessage

TOKEN = "777333:INPUT-token-never-logged"
BOT_ID = 777333  # the token's prefix: Telegram's id of the bot
NAME = "Nguyễn Thị Riêng"  # personal data: never in a log line


class _Nudge:
    def wake(self) -> None:
        """The outbox is drained by the test after polling stops."""

    def offer(self, rows: Sequence[QueuedRow]) -> None:
        """Nor is anything handed over: the test drains the table."""

    def claims(self) -> None:
        """No worker runs meanwhile: nothing is claimed for one."""


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def now_clock() -> FixedClock:
    """Real time: the fake stamps messages with the wall clock (the legacy dedupe reads it)."""
    return FixedClock(datetime.now(UTC))


def settings_for(fake: FakeTelegram, data_dir: Path) -> Settings:
    return Settings(
        app=AppConfig(data_dir=data_dir),
        telegram=TelegramConfig(
            api_base=fake.base_url, global_rate_per_second=1000, per_chat_rate_per_second=1000
        ),
        secrets=Secrets(telegram_bot_token=SecretStr(TOKEN)),
        # Strangers send several /help here; the flood guard is tested on its own.
        flood=FloodConfig(stranger_answers_per_minute=60),
    )


async def run_bot(
    fake: FakeTelegram,
    engine: Engine,
    settings: Settings,
    clock: FixedClock,
    done: Callable[[], bool],
) -> None:
    """Start the Telegram runtime (polling), wait until ``done()``, stop, send the outbox."""
    apply = inbound_applier(engine, settings, clock, _Nudge())
    deps = ChannelDeps(settings=settings, clock=clock, apply=apply, engine=engine)
    running = await telegram_runtime.start(deps)
    task = asyncio.create_task(running.receive(asyncio.Event()))
    try:
        for _ in range(2000):
            if done() or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()  # the loop died: show why
        assert done(), "the bot did not get through the updates"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    worker = OutboxWorker(engine, {"telegram": running.sender}, settings, clock)
    try:
        await worker.drain()
    finally:
        worker.close()
        await running.close()


def confirmed(fake: FakeTelegram, last_update_id: int) -> Callable[[], bool]:
    return lambda: fake.confirmed_offset > last_update_id


def keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(ProcessedUpdate.update_key).order_by(col(ProcessedUpdate.id)))
        return list(rows.all())


def texts(sent: list[SentMessage]) -> list[str]:
    return [item.text or "" for item in sent]


def _message(user: int, **fields: object) -> dict[str, object]:
    return {
        "message_id": 500 + user,
        "date": 1782000000,
        "chat": {"id": user, "type": "private", "first_name": NAME},
        "from": {"id": user, "is_bot": False, "first_name": NAME},
        **fields,
    }


# --- 1. malformed updates --------------------------------------------------------------


async def test_malformed_updates_are_recorded_and_skipped_and_polling_goes_on(
    fake: FakeTelegram,
    engine: Engine,
    clock: FixedClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    no_chat = _message(31, text="/help Riêng tư")
    del no_chat["chat"]
    await fake.inject_raw({"message": no_chat})
    await fake.inject_raw({"message": _message(32, date="yesterday", text="/help Riêng tư")})
    await fake.inject_message(33, "/baocao \ud800 x\x00y\x07", name=NAME)
    last = await fake.inject_message(34, "/help", name=NAME)
    settings = settings_for(fake, tmp_path)
    await run_bot(fake, engine, settings, clock, confirmed(fake, last))

    assert fake.sent_to(34), "the good /help after the bad updates was not answered"
    surrogate_reply = texts(fake.sent_to(33))
    assert surrogate_reply and all(text.encode("utf-8") for text in surrogate_reply)
    recorded = keys(engine)
    assert len(recorded) == 4  # both unreadable updates are recorded, as processed
    assert len([key for key in recorded if key.startswith(f"{BOT_ID}:x:")]) == 2
    assert "could not be read" in caplog.text
    for private in (NAME, "Riêng", "Ri\\u00eang", "yesterday", TOKEN):
        assert private not in caplog.text


async def test_control_characters_and_lone_surrogates_never_reach_the_database(
    fake: FakeTelegram, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """What is stored from a message is valid text (a database refuses a lone surrogate; a
    NUL ends a string in PostgreSQL)."""
    from tests.handlers.helpers import make_world

    world = make_world(engine, clock.now())
    official = world.people["off1a"]
    with session_scope(engine) as session:
        session.add(
            ChannelIdentity(
                official_id=official.id or 0,
                channel="telegram",
                external_user_id="41",
                chat_id="41",
                linked_at=clock.now(),
            )
        )
    number = world.assignments_of("off1a")[0]
    text = f"{number} vướng: thi\ud800ếu\x00 kinh\x1b phí"
    last = await fake.inject_message(41, text, name=NAME)
    await run_bot(fake, engine, settings_for(fake, tmp_path), clock, confirmed(fake, last))
    assert fake.sent_to(41)
    with Session(engine) as session:
        notes = [row.note or "" for row in session.exec(select(ProgressUpdate)).all()]
    assert any("thi\ufffdếu kinh phí" in note for note in notes), notes


# --- 2. dedupe keys that survive the update ids starting again --------------------------


async def test_update_ids_starting_again_are_answered_real_redelivery_is_not(
    fake: FakeTelegram,
    engine: Engine,
    now_clock: FixedClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(fake, tmp_path)
    for _ in range(3):
        last = await fake.inject_message(51, "/help", name=NAME)
    await run_bot(fake, engine, settings, now_clock, confirmed(fake, last))
    first = len(fake.sent_to(51))
    assert first >= 3

    # The bot stopped before confirming update 3: Telegram sends it again.
    await fake.redeliver(3)
    await run_bot(fake, engine, settings, now_clock, lambda: not fake.updates)
    assert len(fake.sent_to(51)) == first  # nothing answered twice
    assert "duplicate" in caplog.text

    fake.restart_update_ids()
    for _ in range(3):
        last = await fake.inject_message(51, "/help", name=NAME)
    assert last == 3
    await run_bot(fake, engine, settings, now_clock, confirmed(fake, last))
    assert len(fake.sent_to(51)) == 2 * first  # ids 1-3 again, new messages: answered
    assert all(key.startswith(f"{BOT_ID}:m:51:") for key in keys(engine))
    for private in (NAME, "51:", TOKEN):
        assert private not in caplog.text


async def test_a_redelivery_right_after_the_upgrade_is_still_deduped(
    fake: FakeTelegram, engine: Engine, now_clock: FixedClock, tmp_path: Path
) -> None:
    """The version before issue 12 recorded the bare update id; an update it applied but did
    not confirm comes again after the upgrade, and must not be answered twice. An old bare id
    of an earlier message does not swallow a new message with the same update id."""
    now = now_clock.now()
    for _ in range(2):
        await fake.inject_message(61, "/help", name=NAME)
    with session_scope(engine) as session:
        session.add(ProcessedUpdate(channel="telegram", update_key="1", processed_at=now))
        old = now - timedelta(hours=2)  # long before message 2 was written
        session.add(ProcessedUpdate(channel="telegram", update_key="2", processed_at=old))
    settings = settings_for(fake, tmp_path)
    await run_bot(fake, engine, settings, now_clock, confirmed(fake, 2))
    assert len(fake.sent_to(61)) == 1  # update 1 was a redelivery; update 2 was new
    assert keys(engine)[2:] == [f"{BOT_ID}:m:61:2"]


# --- 4. group chats ----------------------------------------------------------------------


async def test_a_group_chat_is_refused_politely_and_nothing_moves(
    fake: FakeTelegram, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    from tests.handlers.helpers import make_world

    world = make_world(engine, clock.now())
    official = world.people["off1a"]
    with session_scope(engine) as session:
        session.add(
            ChannelIdentity(
                official_id=official.id or 0,
                channel="telegram",
                external_user_id="71",
                chat_id="71",
                linked_at=clock.now(),
            )
        )
    group = -1001234
    await fake.inject_message(71, "/nhiemvu", name=NAME, group=group)
    await fake.inject_message(72, "vì thiếu kinh phí", name="Người khác", group=group)
    last = await fake.inject_message(71, "/nhiemvu@papi_test_bot", name=NAME, group=group)
    await run_bot(fake, engine, settings_for(fake, tmp_path), clock, confirmed(fake, last))

    answers = texts(fake.sent_to(group))
    assert len(answers) == 2  # one per command; the member's chatter gets no answer
    assert all("riêng" in text for text in answers), answers  # "chỉ làm việc trong chat riêng"
    assert fake.sent_to(71) == []
    with Session(engine) as session:
        identity = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.external_user_id == "71")
        ).one()
        assert identity.chat_id == "71"
        assert session.exec(select(ConversationState)).all() == []
        assert session.get(Official, official.id) is not None
    assert len(keys(engine)) == 3
