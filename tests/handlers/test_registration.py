"""Registration by invite code; strangers get one polite message and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from storage import invites
from storage.db import session_scope
from storage.invites import InviteAlreadyUsed, create_invite, hash_code
from storage.models import ChannelIdentity, ConversationState, Invite, Official
from tests.handlers.helpers import World


def _invite(world: World, who: str, ttl_days: int = 14) -> str:
    with session_scope(world.engine) as session:
        invite = create_invite(session, world.people[who].id or 0, world.now, ttl_days)
        return invite.code


def _identities(world: World) -> list[ChannelIdentity]:
    with world.session() as session:
        return list(session.exec(select(ChannelIdentity)).all())


def test_start_with_code_links_the_chat(world: World) -> None:
    code = _invite(world, "off1a")
    rows = world.send("tg-100", f"/start {code}")
    assert len(rows) == 1
    assert "Lê Thị Hoa" in rows[0].text
    assert rows[0].official_id == world.people["off1a"].id
    [identity] = _identities(world)
    assert (identity.external_user_id, identity.official_id) == ("tg-100", world.people["off1a"].id)
    with world.session() as session:
        invite = session.exec(select(Invite).where(Invite.code_hash == hash_code(code))).one()
    assert invite.used_at is not None and invite.used_by_identity_id == identity.id
    # Linked now: the task list answers.
    assert "#" in world.texts("tg-100", "/nhiemvu")


def test_typing_the_code_with_spaces_and_lower_case_links(world: World) -> None:
    code = _invite(world, "chair1")
    spaced = f"{code[:4].lower()} {code[4:].lower()}"
    assert "Trần Văn Bình" in world.texts("tg-101", spaced)
    assert len(_identities(world)) == 1


def test_used_code_links_nothing(world: World) -> None:
    code = _invite(world, "off1a")
    world.send("tg-100", f"/start {code}")
    text = world.texts("tg-200", f"/start {code}")
    assert "đã được sử dụng" in text
    assert [i.external_user_id for i in _identities(world)] == ["tg-100"]


def test_expired_code_links_nothing(world: World) -> None:
    code = _invite(world, "off1a", ttl_days=1)
    world.now = world.now + timedelta(days=2)
    assert "hết hạn" in world.texts("tg-100", code)
    assert _identities(world) == []


def test_unknown_code_links_nothing(world: World) -> None:
    assert "không hợp lệ" in world.texts("tg-100", "/start ABCDEFGH")
    assert _identities(world) == []


def test_stranger_gets_one_polite_message_and_nothing_else(world: World) -> None:
    for text, payload in [("/nhiemvu", None), ("xong", None), ("xin chào", None), (None, "l:0")]:
        world.now += timedelta(minutes=1)  # a stranger is answered once a minute (bot/flood.py)
        rows = world.send("tg-999", text, payload=payload)
        assert len(rows) == 1
        assert "mã mời" in rows[0].text
        assert not rows[0].buttons
    assert _identities(world) == []
    with world.session() as session:
        assert session.exec(select(ConversationState)).all() == []


def test_linked_user_sending_a_code_again_is_told(world: World) -> None:
    user = world.link("off1a")
    code = _invite(world, "off1b")
    assert "đã được liên kết" in world.texts(user, code)
    assert len(_identities(world)) == 1


def test_losing_a_race_for_the_code_links_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _invite(world, "off1a")

    def someone_was_faster(*args: object) -> None:
        raise InviteAlreadyUsed(code)

    monkeypatch.setattr(invites, "mark_used", someone_was_faster)  # spent in redeem_invite
    assert "đã được sử dụng" in world.texts("tg-100", code)
    assert _identities(world) == []


def test_account_of_a_deactivated_official_can_take_a_new_code(world: World) -> None:
    user = world.link("off1a")
    with session_scope(world.engine) as session:
        official = session.get(Official, world.people["off1a"].id)
        assert official is not None
        official.active = False
        session.add(official)
    code = _invite(world, "off1b")
    assert "Phạm Minh Tuấn" in world.texts(user, code)
    [identity] = _identities(world)
    assert identity.official_id == world.people["off1b"].id
