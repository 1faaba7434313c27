"""The flood guard (issue 12, availability): a stranger's 200 "hello"s, an official's 200
commands and 20 /baocao must not cost everyone else their answers.

Through ``apply_inbound`` on the demo province: what is answered, what is recorded and not
answered, what is logged, and that the counts live in the database (two processes agree).
"""

from __future__ import annotations

import logging
import multiprocessing
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, func, select

from bot.config import FloodConfig, Settings
from bot.flood import registration_attempt
from bot.pipeline import apply_inbound
from bot.scheduler.jobs import prune_old_rows
from handlers.types import Inbound
from kernel.clock import FixedClock
from storage.db import make_engine, session_scope
from storage.flood import sender_key
from storage.invites import create_invite
from storage.models import (
    ChannelIdentity,
    FloodWindow,
    Official,
    OutboxMessage,
    ProcessedUpdate,
    ReportJob,
)
from tests.handlers.helpers import World

STRANGER = "stranger-555"


class Talk:
    """Send as someone at a moment the test moves on; count what each message produced."""

    def __init__(self, world: World, settings: Settings | None = None) -> None:
        self.world = world
        self.settings = settings or world.settings
        self.now = world.now
        self.key = 0

    def send(self, user: str, text: str, *, after: float = 0.0) -> list[OutboxMessage]:
        self.now += timedelta(seconds=after)
        self.key += 1
        inbound = Inbound(
            channel="telegram",
            external_user_id=user,
            chat_id=user,
            update_key=f"flood-{self.key}",
            received_at=self.now,
            message_id=f"m{self.key}",
            text=text,
        )
        ids = apply_inbound(self.world.engine, inbound, self.settings, self.now)
        assert ids is not None, "a fresh update was taken for a redelivery"
        with Session(self.world.engine) as session:
            return list(
                session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))).all()
            )

    def burst(self, user: str, text: str, count: int, seconds: float) -> list[int]:
        """``count`` messages over ``seconds``; how many rows each produced."""
        return [len(self.send(user, text, after=seconds / count)) for _ in range(count)]


def count(world: World, model: type) -> int:
    with Session(world.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


# --- strangers -----------------------------------------------------------------------------


def test_a_stranger_gets_one_answer_a_minute_and_the_rest_is_recorded(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    talk = Talk(world)
    with caplog.at_level(logging.INFO, logger="bot.flood"):
        answers = talk.burst(STRANGER, "hello 0912 345 678", 200, seconds=12)
    assert answers[0] == 1 and sum(answers) == 1  # one polite answer, 199 dropped
    assert count(world, ProcessedUpdate) == 200  # every one recorded: never redelivered
    # The minute (from the first, at 09:00:00.06) has passed: one more answer, no more.
    talk.now = world.now + timedelta(seconds=60.1)
    assert talk.burst(STRANGER, "hello", 10, seconds=10) == [1] + [0] * 9

    dropped = [r for r in caplog.records if r.name == "bot.flood"]
    assert len(dropped) == 199 and all(r.levelno == logging.INFO for r in dropped)
    logged = "\n".join(r.getMessage() for r in dropped)
    assert "telegram" in logged
    assert STRANGER not in logged and "hello" not in logged and "0912" not in logged


def test_a_stranger_can_still_register_in_a_minute_of_hellos(world: World) -> None:
    official = world.people["off1a"]
    with session_scope(world.engine) as session:
        code = create_invite(session, official.id or 0, world.now, 14).code
    talk = Talk(world)
    assert talk.burst(STRANGER, "xin chào", 5, seconds=5) == [1, 0, 0, 0, 0]
    assert registration_attempt(
        Inbound("telegram", STRANGER, STRANGER, "k", world.now, text=f"/start {code}")
    )
    (welcome,) = talk.send(STRANGER, f"/start {code}", after=1)
    assert official.name in welcome.text
    with Session(world.engine) as session:
        identity = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.external_user_id == STRANGER)
        ).one()
    assert identity.official_id == official.id


def test_a_stranger_does_not_stall_an_official(world: World) -> None:
    talk = Talk(world)
    user = world.link("coord")
    talk.burst(STRANGER, "hello", 200, seconds=12)
    (help_reply,) = talk.send(user, "/help", after=0.1)
    assert "/nhiemvu" in help_reply.text
    with Session(world.engine) as session:
        to_stranger = session.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.chat_id == STRANGER)
        ).one()
    assert to_stranger == 1  # nothing queued ahead of anyone


# --- any sender over the rate -----------------------------------------------------------


def test_an_official_over_the_rate_is_told_once_then_not_answered_until_the_window_passes(
    world: World,
) -> None:
    talk = Talk(world)
    user = world.link("off1a")
    answers = talk.burst(user, "/nhiemvu", 200, seconds=50)
    assert all(n >= 1 for n in answers[:20])  # the first 20 of the minute are answered
    assert answers[20] == 1 and answers[21:] == [0] * 179
    assert count(world, ProcessedUpdate) == 200
    with Session(world.engine) as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == user)
            .order_by(col(OutboxMessage.id))
        ).all()
    notices = [r.text for r in rows if "nhanh hơn" in r.text]
    assert len(notices) == 1
    assert "Bạn đang gửi tin nhắn nhanh hơn" in notices[0]
    assert "09:01:01" in notices[0]  # the window began at 09:00:00.25: a minute later
    # The window passed: answered again.
    (listing, *_rest) = talk.send(user, "/nhiemvu", after=11)
    assert "nhanh hơn" not in listing.text


def test_the_slow_down_notice_is_in_the_officials_language(world: World) -> None:
    user = world.link("off1b")
    with session_scope(world.engine) as session:
        official = session.get(Official, world.people["off1b"].id)
        assert official is not None
        official.locale = "en"
        session.add(official)
    talk = Talk(world, Settings(flood=FloodConfig(messages_per_minute=3)))
    answers = talk.burst(user, "/help", 6, seconds=6)
    assert answers == [1, 1, 1, 1, 0, 0]
    with Session(world.engine) as session:
        last = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == user)
            .order_by(col(OutboxMessage.id).desc())
        ).first()
    assert last is not None
    assert last.text.startswith("You are sending messages faster than I can answer.")
    assert "until 09:01:01 will" in last.text  # the window began with the first, at 09:00:01


def test_the_guard_can_be_turned_off(world: World) -> None:
    talk = Talk(world, Settings(flood=FloodConfig(enabled=False)))
    assert sum(talk.burst(STRANGER, "hello", 30, seconds=3)) == 30
    assert count(world, FloodWindow) == 0


# --- heavy commands ---------------------------------------------------------------------


def test_reports_are_limited_per_person_with_a_clear_answer(world: World) -> None:
    talk = Talk(world, Settings(flood=FloodConfig(reports_per_hour=2)))
    chair = world.link("chair1")
    other = world.link("chair2")
    first = talk.send(chair, "/baocao", after=1)
    second = talk.send(chair, "/baocao", after=60)
    assert all("Đang chuẩn bị" in rows[0].text for rows in (first, second))
    (refusal,) = talk.send(chair, "/baocao", after=60)
    assert "tối đa" in refusal.text and "(2)" in refusal.text
    assert "10:01" in refusal.text  # the first one (09:00:01) leaves the hour at 10:00:01
    assert count(world, ReportJob) == 2  # nothing rendered for the refused one
    # Another person is not affected; /tonghop (one query) is not limited.
    assert "Đang chuẩn bị" in talk.send(other, "/baocao", after=1)[0].text
    assert "tối đa" not in talk.send(chair, "/tonghop", after=1)[0].text
    # An hour after the first, one more is allowed.
    talk.now = world.now + timedelta(hours=1, seconds=2)
    assert "Đang chuẩn bị" in talk.send(chair, "/baocao")[0].text
    assert count(world, ReportJob) == 4


# --- durability and several processes ----------------------------------------------------


def test_a_dropped_message_commits_once(world: World) -> None:
    talk = Talk(world)
    talk.send(STRANGER, "hello")
    commits: list[int] = []

    def counted(_conn: object) -> None:
        commits.append(1)

    event.listen(world.engine, "commit", counted)
    try:
        assert talk.send(STRANGER, "hello", after=1) == []
    finally:
        event.remove(world.engine, "commit", counted)
    assert commits == [1]


def _flood_from_another_process(db_url: str, user: str, first_key: int, now: str) -> None:
    engine = make_engine(db_url)
    moment = datetime.fromisoformat(now)
    for n in range(15):
        inbound = Inbound(
            channel="telegram",
            external_user_id=user,
            chat_id=user,
            update_key=f"proc-{first_key + n}",
            received_at=moment,
            text="/help",
        )
        apply_inbound(engine, inbound, Settings(), moment)
    engine.dispose()


def test_two_processes_share_one_count(world: World, db_url: str) -> None:
    """Two worker processes on one database: 30 messages in a minute from one sender are
    answered 20 times and told to slow down once, not 15 + 15 times."""
    user = world.link("coord")
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_flood_from_another_process, args=(db_url, user, 100 * n, world.now.isoformat())
        )
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with Session(world.engine) as session:
        texts = session.exec(select(OutboxMessage.text).where(OutboxMessage.chat_id == user)).all()
    assert count(world, ProcessedUpdate) == 30
    assert len(texts) == 21
    assert sum("nhanh hơn" in text for text in texts) == 1


def test_the_nightly_retention_forgets_day_old_windows(world: World) -> None:
    talk = Talk(world)
    talk.send(STRANGER, "hello")
    talk.send("someone-else", "hello", after=23 * 3600)
    assert count(world, FloodWindow) == 4  # a message window and a stranger window each
    prune_old_rows(world.engine, world.settings, FixedClock(world.now + timedelta(hours=25)))
    with Session(world.engine) as session:
        kept = session.exec(select(FloodWindow.sender)).all()
    assert set(kept) == {sender_key("telegram", "someone-else")}
