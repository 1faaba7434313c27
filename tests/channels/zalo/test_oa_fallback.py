"""The OA refuses a message with −230 (the user is outside its messaging window): the row is
not dropped but moves to the official's next linked channel, and goes out there."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.base import OutgoingMessage, SendResult
from bot.channels.zalo_oa.channel import ZaloOAChannel
from bot.channels.zalo_oa.client import ZaloOAClient
from bot.config import OutboxConfig, Settings
from bot.outbox import OutboxWorker
from kernel.clock import FixedClock
from storage.models import (
    OUTBOX_PRIORITY_REPLY,
    ChannelIdentity,
    Official,
    OutboxMessage,
    Unit,
)
from tests.channels.zalo.conftest import store_pair
from tests.fakes.fake_zalo_oa import FakeZaloOA

SETTINGS = Settings(outbox=OutboxConfig(max_attempts=4, backoff_base_seconds=0.05))
OA_USER, TG_CHAT = "8002000000000000005", "tg-5"


class Recorder:
    """A Telegram stand-in that records what it was given."""

    name = "telegram"

    def __init__(self) -> None:
        self.delivered: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.delivered.append(message)
        return SendResult(external_message_id=f"tg{len(self.delivered)}")


def _official(engine: Engine, clock: FixedClock, *, telegram: bool) -> int:
    """An official on the OA (linked first) and, if ``telegram``, on Telegram too."""
    with Session(engine) as session:
        unit = Unit(code="T1", name="Tỉnh Thử", name_folded="tinh thu", level="province")
        session.add(unit)
        session.flush()
        official = Official(name="Nguyễn Văn A", phone="+84900000005", unit_id=unit.id or 0)
        session.add(official)
        session.flush()
        assert official.id is not None
        session.add(
            ChannelIdentity(
                official_id=official.id,
                channel="zalo_oa",
                external_user_id=OA_USER,
                chat_id=OA_USER,
                linked_at=clock.now() - timedelta(days=30),
                last_inbound_at=clock.now() - timedelta(days=8),
            )
        )
        if telegram:
            session.add(
                ChannelIdentity(
                    official_id=official.id,
                    channel="telegram",
                    external_user_id=TG_CHAT,
                    chat_id=TG_CHAT,
                    linked_at=clock.now() - timedelta(days=20),
                )
            )
        session.commit()
        return official.id


def _rows(
    engine: Engine, clock: FixedClock, official_id: int | None, texts: list[str]
) -> list[int]:
    with Session(engine, expire_on_commit=False) as session:
        rows = [
            OutboxMessage(
                channel="zalo_oa",
                chat_id=OA_USER,
                official_id=official_id,
                kind="reminder",
                text=text,
                reply_to_message_id="oa-77",
                priority=OUTBOX_PRIORITY_REPLY,
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
            for text in texts
        ]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows if row.id is not None]


def _by_id(engine: Engine) -> dict[int, OutboxMessage]:
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return {row.id: row for row in rows if row.id is not None}


def _oa_identity(engine: Engine) -> ChannelIdentity:
    with Session(engine) as session:
        return session.exec(
            select(ChannelIdentity).where(ChannelIdentity.channel == "zalo_oa")
        ).one()


async def test_outside_the_window_the_rows_move_to_the_next_channel(
    engine: Engine, fake_oa: FakeZaloOA, oa_client: ZaloOAClient, clock: FixedClock
) -> None:
    store_pair(engine, fake_oa, clock, hours=20)
    official_id = _official(engine, clock, telegram=True)
    first, second = _rows(engine, clock, official_id, ["Nhắc việc 1", "Nhắc việc 2"])
    fake_oa.outside_window(OA_USER, -230)
    telegram = Recorder()
    worker = OutboxWorker(
        engine, {"zalo_oa": ZaloOAChannel(oa_client), "telegram": telegram}, SETTINGS, clock
    )
    try:
        await worker.drain()
        moved = _by_id(engine)
        for row_id in (first, second):
            row = moved[row_id]
            assert (row.channel, row.chat_id, row.status) == ("telegram", TG_CHAT, "pending")
            assert "-230" in (row.last_error or "")
            assert row.reply_to_message_id is None  # that id belongs to the OA chat
        assert _oa_identity(engine).unreachable_at == clock.now()
        # The running worker drains again at once (due now); the second row of the chat
        # waits for its per-chat slot, and a drain skips a chat that waits (bot/outbox.py).
        for _ in range(50):
            await worker.drain()
            if len(telegram.delivered) == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        worker.close()
    assert [m.text for m in telegram.delivered] == ["Nhắc việc 1", "Nhắc việc 2"]
    assert [m.chat_id for m in telegram.delivered] == [TG_CHAT, TG_CHAT]
    rows = _by_id(engine)
    assert rows[first].status == rows[second].status == "sent"
    assert fake_oa.sent == []


async def test_without_another_channel_the_rows_are_unreachable(
    engine: Engine, fake_oa: FakeZaloOA, oa_client: ZaloOAClient, clock: FixedClock
) -> None:
    store_pair(engine, fake_oa, clock, hours=20)
    official_id = _official(engine, clock, telegram=False)
    [mine] = _rows(engine, clock, official_id, ["Nhắc việc"])
    [nobody] = _rows(engine, clock, None, ["không ai"])
    fake_oa.outside_window(OA_USER, -230)
    worker = OutboxWorker(engine, {"zalo_oa": ZaloOAChannel(oa_client)}, SETTINGS, clock)
    try:
        await worker.drain()
    finally:
        worker.close()
    rows = _by_id(engine)
    assert rows[mine].status == rows[nobody].status == "unreachable"
    assert rows[mine].channel == "zalo_oa"
    assert "-230" in (rows[mine].last_error or "")
