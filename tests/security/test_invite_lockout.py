"""Guessing invite codes: a few wrong codes lock the chat out for a while, and it is logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.config import InvitesConfig, Settings
from storage.db import _alembic_config, current_revision, head_revision, upgrade
from storage.invites import create_invite, new_code
from storage.models import ChannelIdentity, InviteLockout
from tests.handlers.helpers import World

LOCKED = "Bạn đã gửi sai mã mời quá nhiều lần"


def _code(world: World, who: str = "off1a") -> str:
    from storage.db import session_scope

    with session_scope(world.engine) as session:
        return create_invite(session, world.people[who].id or 0, world.now, 14).code


def _wrong(real: str) -> str:
    while (guess := new_code()) == real:
        continue
    return guess


def _linked(world: World) -> list[str]:
    with world.session() as session:
        return [i.external_user_id for i in session.exec(select(ChannelIdentity)).all()]


def test_five_wrong_codes_lock_the_chat_even_for_the_right_code(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    real = _code(world)
    caplog.set_level(logging.INFO)
    guesses = [_wrong(real) for _ in range(5)]
    answers = [world.texts("tg-666", f"/start {guess}") for guess in guesses]
    assert all("Mã này không hợp lệ" in text for text in answers[:4])
    assert LOCKED in answers[4]
    # Locked: even the right code is not checked, nothing is linked.
    assert LOCKED in world.texts("tg-666", real)
    assert _linked(world) == []
    # Another chat is not affected.
    assert "Lê Thị Hoa" in world.texts("tg-777", f"/start {real}")
    logged = caplog.text
    assert "invite lockout: telegram chat tg-666" in logged
    assert logged.count("invite code refused for telegram chat tg-666") == 5
    assert not any(guess in logged for guess in [*guesses, real])
    assert "+84" not in logged


def test_the_lockout_ends(world: World) -> None:
    real = _code(world)
    for _ in range(5):
        world.send("tg-666", _wrong(real))
    world.now += timedelta(minutes=59)
    assert LOCKED in world.texts("tg-666", real)
    world.now += timedelta(minutes=2)
    assert "Lê Thị Hoa" in world.texts("tg-666", real)
    assert _linked(world) == ["tg-666"]
    with world.session() as session:
        assert session.exec(select(InviteLockout)).all() == []  # the count is cleared


def test_mistakes_outside_the_window_do_not_add_up(world: World) -> None:
    real = _code(world)
    for _ in range(4):
        world.send("tg-666", _wrong(real))
    world.now += timedelta(minutes=16)
    for _ in range(4):
        assert LOCKED not in world.texts("tg-666", _wrong(real))
    assert LOCKED in world.texts("tg-666", _wrong(real))


def test_the_limits_come_from_the_config(world: World) -> None:
    world.settings = Settings(
        invites=InvitesConfig(max_wrong_codes=2, wrong_code_window_minutes=5, lockout_minutes=1)
    )
    real = _code(world)
    assert LOCKED not in world.texts("tg-666", _wrong(real))
    assert LOCKED in world.texts("tg-666", "/start nothing-like-a-code")
    world.now += timedelta(minutes=1, seconds=1)
    assert "Lê Thị Hoa" in world.texts("tg-666", real)


def test_plain_text_from_a_stranger_is_not_a_guess(world: World) -> None:
    real = _code(world)
    for _ in range(10):
        world.send("tg-666", "xin chào")
    assert "Lê Thị Hoa" in world.texts("tg-666", real)


def test_migration_0007_downgrades(engine: Engine) -> None:
    command.downgrade(_alembic_config(engine), "0002")
    assert current_revision(engine) == "0002"
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
