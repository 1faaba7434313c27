"""/kenh: an official linked on several channels sees them, and chooses where reminders and
notices go (or "tự động": the channel they last wrote from)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.pipeline import enqueue
from handlers.types import Outbound
from storage.db import session_scope
from storage.models import ChannelIdentity, Official, OutboxMessage
from tests.handlers.helpers import World


def _two_channels(world: World, who: str = "off1a") -> str:
    user = world.link(who, channel="telegram")
    world.link(who, channel="zalo")
    return user


def _preferred(world: World, who: str = "off1a") -> str | None:
    with world.session() as session:
        official = session.get(Official, world.people[who].id)
        assert official is not None
        return official.preferred_channel


def _labels(row: OutboxMessage) -> list[str]:
    return [button["label"] for line in row.buttons or [] for button in line]


def _payloads(row: OutboxMessage) -> list[str]:
    return [button["payload"] for line in row.buttons or [] for button in line]


def _reminder_goes_to(world: World, who: str = "off1a") -> str:
    outbound = Outbound("Nhắc việc", official_id=world.people[who].id, kind="reminder")
    with session_scope(world.engine) as session:
        [row] = enqueue(session, [outbound], world.now)
    return row.channel


def test_kenh_alone_lists_the_linked_channels_as_a_menu(world: World) -> None:
    user = _two_channels(world)
    [row] = world.send(user, "/kenh", channel="zalo")
    assert (row.channel, row.chat_id) == ("zalo", user)  # answered where it was asked
    assert "Telegram" in row.text and "Zalo" in row.text
    assert "tự động" in row.text and "(Zalo)" in row.text  # current: the one written from
    assert _labels(row) == ["Telegram", "Zalo", "Tự động"]
    assert _payloads(row) == ["k:telegram", "k:zalo", "k:auto"]


def test_kenh_shows_the_chosen_channel_and_an_unreachable_one(world: World) -> None:
    user = _two_channels(world)
    world.send(user, "/kenh telegram", channel="zalo")
    with session_scope(world.engine) as session:
        zalo = session.exec(select(ChannelIdentity).where(ChannelIdentity.channel == "zalo")).one()
        zalo.unreachable_at = world.now
        session.add(zalo)
    [row] = world.send(user, "/kenh")
    assert "Hiện tại: Telegram (bạn đã chọn)" in row.text
    assert "Zalo — không liên lạc được" in row.text


def test_kenh_with_a_name_sets_the_channel(world: World) -> None:
    user = _two_channels(world)
    [row] = world.send(user, "/kenh zalo")
    assert _preferred(world) == "zalo"
    assert "Zalo" in row.text and row.channel == "telegram"
    assert _reminder_goes_to(world) == "zalo"  # though Telegram was written from last


@pytest.mark.parametrize("typed", ["/kenh tu dong", "/kênh tự động", "/KENH Tự Động", "/kenh auto"])
def test_tu_dong_returns_to_the_last_written_channel(world: World, typed: str) -> None:
    user = _two_channels(world)
    world.send(user, "/kenh zalo")
    [row] = world.send(user, typed)
    assert _preferred(world) is None
    assert "kênh bạn nhắn gần nhất" in row.text
    assert _reminder_goes_to(world) == "telegram"


def test_channel_names_match_without_diacritics_case_or_underscore(world: World) -> None:
    user = _two_channels(world)
    world.link("off1a", channel="zalo_oa")
    world.send(user, "/kenh Zalo OA")
    assert _preferred(world) == "zalo_oa"
    world.send(user, "/kenh TELE")  # a unique beginning is enough
    assert _preferred(world) == "telegram"
    world.send(user, "/kenh zalo")  # exactly the Zalo bot, not the OA
    assert _preferred(world) == "zalo"


def test_choosing_from_the_menu_sets_the_channel(world: World) -> None:
    user = _two_channels(world)
    [menu] = world.send(user, "/kenh", channel="zalo")
    zalo = _payloads(menu)[1]
    [row] = world.send(user, payload=zalo, channel="zalo")
    assert _preferred(world) == "zalo"
    assert "Zalo" in row.text
    world.send(user, payload="k:auto", channel="zalo")
    assert _preferred(world) is None


def test_an_unlinked_channel_is_refused_and_the_menu_shown(world: World) -> None:
    user = world.link("off1a", channel="telegram")
    [row] = world.send(user, "/kenh zalo")
    assert _preferred(world) is None
    assert "chưa liên kết" in row.text
    [forged] = world.send(user, payload="k:zalo_oa")
    assert _preferred(world) is None and "chưa liên kết" in forged.text
    assert _labels(row) == ["Telegram", "Tự động"]


def test_kenh_in_english(world: World) -> None:
    user = _two_channels(world)
    world.send(user, "/lang en")
    [row] = world.send(user, "/channel")
    assert "Your linked channels" in row.text
    assert "automatic" in row.text and "(Telegram)" in row.text
    assert _labels(row) == ["Telegram", "Zalo", "Automatic"]
    [chosen] = world.send(user, "/kenh zalo")
    assert chosen.text == "From now on, reminders and notices go to Zalo."
    [auto] = world.send(user, "/channel automatic")
    assert "the channel you last wrote from" in auto.text
    assert _preferred(world) is None


def test_help_lists_kenh(world: World) -> None:
    user = world.link("off1a")
    assert "/kenh" in world.texts(user, "/help")


def test_a_reply_still_answers_the_chat_written_from(world: World) -> None:
    """The choice is for reminders and notices; an answer to a message goes back where the
    message came from (its menu and state belong to that chat)."""
    user = _two_channels(world)
    world.send(user, "/kenh telegram")
    world.now += timedelta(minutes=1)
    rows = world.send(user, "/nhiemvu", channel="zalo")
    assert rows and {(row.channel, row.chat_id) for row in rows} == {("zalo", user)}
