"""One person, several channels: each message to an official is ONE outbox row, in the chat
they last wrote from, or the channel they chose with /kenh; an unreachable channel falls back
to the next linked one (oldest link first), and so does the Zalo OA outside its free window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.config import Settings, ZaloConfig, ZaloOAConfig
from bot.pipeline import enqueue
from bot.routing import Routing
from bot.scheduler.record import LogKey, Planned, write
from handlers.types import Outbound
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.models import ChannelIdentity, Official, OutboxMessage
from tests.handlers.helpers import World, make_world

OA_WINDOW = Routing(free_windows={"zalo_oa": timedelta(hours=48)})


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> World:
    return make_world(engine, clock.now())


def _to(world: World, who: str, routing: Routing = OA_WINDOW) -> list[tuple[str, str]]:
    """Where one reminder to ``who`` goes: (channel, chat) of every row written."""
    outbound = Outbound("Nhắc việc", official_id=world.people[who].id, kind="reminder")
    with session_scope(world.engine) as session:
        rows = enqueue(session, [outbound], world.now, routing=routing)
    return [(row.channel, row.chat_id) for row in rows]


def _identity(world: World, who: str, channel: str) -> ChannelIdentity:
    with world.session() as session:
        return session.exec(
            select(ChannelIdentity)
            .where(ChannelIdentity.official_id == world.people[who].id)
            .where(ChannelIdentity.channel == channel)
        ).one()


def _set_identity(world: World, who: str, channel: str, **values: object) -> None:
    identity = _identity(world, who, channel)
    with session_scope(world.engine) as session:
        for name, value in values.items():
            setattr(identity, name, value)
        session.add(identity)


def _prefer(world: World, who: str, channel: str | None) -> None:
    with session_scope(world.engine) as session:
        official = session.get(Official, world.people[who].id)
        assert official is not None
        official.preferred_channel = channel
        session.add(official)


def _three_channels(world: World, who: str = "off1a") -> str:
    """Telegram linked first, then the Zalo bot, then the OA (a minute apart)."""
    user = world.link(who, channel="telegram")
    for minutes, channel in ((1, "zalo"), (2, "zalo_oa")):
        world.link(who, channel=channel)
        _set_identity(world, who, channel, linked_at=world.now + timedelta(minutes=minutes))
    return user


def test_the_channel_last_written_from_gets_the_one_row(world: World) -> None:
    user = _three_channels(world)
    world.send(user, "/help", channel="zalo")
    assert _to(world, "off1a") == [("zalo", user)]
    world.now += timedelta(minutes=5)
    world.send(user, "/help", channel="zalo_oa")
    assert _to(world, "off1a") == [("zalo_oa", user)]
    world.now += timedelta(minutes=5)
    world.send(user, "/help", channel="telegram")
    assert _to(world, "off1a") == [("telegram", user)]


def test_writing_records_when_on_the_identity_it_came_from(world: World) -> None:
    user = _three_channels(world)
    world.send(user, "/help", channel="zalo")
    assert _identity(world, "off1a", "zalo").last_inbound_at == world.now
    assert _identity(world, "off1a", "telegram").last_inbound_at is None


def test_nobody_wrote_yet_the_oldest_link_gets_it(world: World) -> None:
    user = _three_channels(world)
    assert _to(world, "off1a") == [("telegram", user)]


def test_the_chosen_channel_wins_over_the_last_written(world: World) -> None:
    user = _three_channels(world)
    world.send(user, "/help", channel="zalo_oa")
    _prefer(world, "off1a", "zalo")
    assert _to(world, "off1a") == [("zalo", user)]
    _prefer(world, "off1a", None)  # automatic again
    assert _to(world, "off1a") == [("zalo_oa", user)]


def test_an_unreachable_choice_falls_back_to_the_oldest_reachable_link(world: World) -> None:
    user = _three_channels(world)
    world.send(user, "/help", channel="zalo_oa")
    _prefer(world, "off1a", "zalo_oa")
    _set_identity(world, "off1a", "zalo_oa", unreachable_at=world.now)
    assert _to(world, "off1a") == [("telegram", user)]
    _set_identity(world, "off1a", "telegram", unreachable_at=world.now)
    assert _to(world, "off1a") == [("zalo", user)]
    _set_identity(world, "off1a", "zalo", unreachable_at=world.now)
    assert _to(world, "off1a") == []  # nothing reachable: no row, the digest shows it


def test_the_last_written_channel_unreachable_falls_back_too(world: World) -> None:
    user = _three_channels(world)
    world.send(user, "/help", channel="zalo")
    _set_identity(world, "off1a", "zalo", unreachable_at=world.now)
    assert _to(world, "off1a") == [("telegram", user)]


def test_the_oa_outside_its_free_window_falls_back_to_another_channel(world: World) -> None:
    user = _three_channels(world)
    world.send(user, "/help", channel="zalo_oa")
    world.now += timedelta(hours=47)
    assert _to(world, "off1a") == [("zalo_oa", user)]  # still free
    world.now += timedelta(hours=2)  # 49 h since they wrote to the OA
    assert _to(world, "off1a") == [("telegram", user)]
    _prefer(world, "off1a", "zalo_oa")  # even when chosen: free channels first
    assert _to(world, "off1a") == [("telegram", user)]
    # Without the window (no OA settings given), the OA is simply the last written.
    assert _to(world, "off1a", Routing()) == [("zalo_oa", user)]


def test_the_oa_alone_is_written_to_even_outside_its_window(world: World) -> None:
    user = world.link("off1a", channel="zalo_oa")
    world.send(user, "/help", channel="zalo_oa")
    world.now += timedelta(days=3)
    assert _to(world, "off1a") == [("zalo_oa", user)]  # paid, or refused: then -230


def test_the_window_comes_from_the_settings(world: World) -> None:
    settings = Settings(zalo=ZaloConfig(oa=ZaloOAConfig(free_window_hours=6)))
    assert Routing.from_settings(settings).free_windows == {"zalo_oa": timedelta(hours=6)}
    user = _three_channels(world)
    world.send(user, "/help", channel="zalo_oa")
    world.now += timedelta(hours=7)
    assert _to(world, "off1a", Routing.from_settings(settings)) == [("telegram", user)]
    assert _to(world, "off1a", Routing.from_settings(Settings())) == [("zalo_oa", user)]


def test_one_row_per_outbound_for_every_recipient(world: World) -> None:
    user = _three_channels(world)
    other = world.link("off1b", channel="zalo")
    world.send(user, "/help", channel="zalo")
    outbounds = [
        Outbound("một", official_id=world.people["off1a"].id, kind="reminder"),
        Outbound("hai", official_id=world.people["off1a"].id, kind="reminder"),
        Outbound("ba", official_id=world.people["off1b"].id, kind="reminder"),
    ]
    with session_scope(world.engine) as session:
        rows = enqueue(session, outbounds, world.now, routing=OA_WINDOW)
    assert [(r.text, r.channel, r.chat_id) for r in rows] == [
        ("một", "zalo", user),
        ("hai", "zalo", user),
        ("ba", "zalo", other),
    ]


def test_the_sweep_writes_one_row_per_reminder_in_the_last_written_channel(
    world: World,
) -> None:
    user = _three_channels(world)
    world.send(user, "/help", channel="zalo_oa")
    world.now += timedelta(hours=50)  # the OA's free window is over
    outbound = Outbound("Nhắc việc", official_id=world.people["off1a"].id, kind="reminder")
    planned = Planned([LogKey("k-routing-1", "reminder", world.now)], [outbound])
    written = write(world.engine, [planned], world.now, routing=OA_WINDOW)
    assert written.messages == 1
    with world.session() as session:
        rows = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind) == "reminder")
        ).all()
    assert [(r.channel, r.chat_id) for r in rows] == [("telegram", user)]
