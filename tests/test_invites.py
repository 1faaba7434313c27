"""Invite codes: shape, single use, expiry, inactive officials, races."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from storage.invites import (
    ALPHABET,
    CODE_LENGTH,
    InviteAlreadyUsed,
    InviteProblem,
    check_invite,
    create_invite,
    hash_code,
    looks_like_invite_code,
    mark_used,
    new_code,
    normalize_code,
)
from storage.models import ChannelIdentity, Invite, Official
from storage.officials import add_official
from storage.units import add_unit

NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)


@pytest.fixture
def official(session: Session) -> Official:
    province = add_unit(session, "24", "Tỉnh Bắc Giang", "province", None)
    commune = add_unit(session, "07420", "Xã Tân An", "commune", province)
    person = add_official(session, "Nguyễn Văn A", "0912345678", commune, "official", "vi")
    session.commit()
    return person


def _identity(session: Session, official: Official, user_id: str) -> int:
    assert official.id is not None
    identity = ChannelIdentity(
        official_id=official.id, channel="telegram", external_user_id=user_id, chat_id=user_id
    )
    session.add(identity)
    session.flush()
    assert identity.id is not None
    return identity.id


def test_new_code_uses_the_unambiguous_alphabet() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200  # random, not derived from anything shared
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert not set(code) & set("01OI")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  k7qm2xpa ", "K7QM2XPA"),
        ("K7QM-2XPA", "K7QM2XPA"),
        ("k7qm 2xpa", "K7QM2XPA"),
        ("K7QM–2XPA", "K7QM2XPA"),  # an en dash from a phone keyboard
    ],
)
def test_normalize_code(typed: str, expected: str) -> None:
    assert normalize_code(typed) == expected
    assert looks_like_invite_code(typed)


@pytest.mark.parametrize("text", ["", "xong", "K7QM2XP", "K7QM2XPAB", "K7QM2XP0", "50% đang họp"])
def test_looks_like_invite_code_rejects_other_text(text: str) -> None:
    assert not looks_like_invite_code(text)


def test_create_and_check(session: Session, official: Official) -> None:
    assert official.id is not None
    invite = create_invite(session, official.id, NOW, ttl_days=14)
    session.commit()
    assert invite.expires_at == NOW + timedelta(days=14)
    found = check_invite(session, invite.code.lower(), NOW + timedelta(days=13))
    assert isinstance(found, Invite)
    assert found.id == invite.invite.id


def test_unknown_code(session: Session, official: Official) -> None:
    assert check_invite(session, "ABCDEFGH", NOW) is InviteProblem.UNKNOWN
    assert check_invite(session, "not a code", NOW) is InviteProblem.UNKNOWN


def test_expired_code(session: Session, official: Official) -> None:
    assert official.id is not None
    invite = create_invite(session, official.id, NOW, ttl_days=14)
    assert check_invite(session, invite.code, NOW + timedelta(days=14)) is InviteProblem.EXPIRED


def test_used_code_is_refused_the_second_time(session: Session, official: Official) -> None:
    assert official.id is not None
    invite = create_invite(session, official.id, NOW, ttl_days=14)
    identity_id = _identity(session, official, "111")
    mark_used(session, invite.invite, identity_id, NOW)
    session.commit()
    stored = session.exec(select(Invite).where(Invite.id == invite.invite.id)).one()
    assert stored.used_at == NOW
    assert stored.used_by_identity_id == identity_id
    assert check_invite(session, invite.code, NOW) is InviteProblem.USED


def test_two_phones_racing_with_one_code(session: Session, official: Official) -> None:
    assert official.id is not None
    invite = create_invite(session, official.id, NOW, ttl_days=14)
    first, second = _identity(session, official, "111"), _identity(session, official, "222")
    stale_copy = Invite.model_validate(invite.invite.model_dump())  # what the second request loaded
    mark_used(session, invite.invite, first, NOW)
    with pytest.raises(InviteAlreadyUsed):
        mark_used(session, stale_copy, second, NOW)
    stored = session.exec(select(Invite).where(Invite.id == invite.invite.id)).one()
    assert stored.used_by_identity_id == first


def test_inactive_official(session: Session, official: Official) -> None:
    assert official.id is not None
    invite = create_invite(session, official.id, NOW, ttl_days=14)
    official.active = False
    session.add(official)
    session.flush()
    assert check_invite(session, invite.code, NOW) is InviteProblem.INACTIVE_OFFICIAL


def test_a_new_code_replaces_the_unused_old_one(session: Session, official: Official) -> None:
    assert official.id is not None
    old = create_invite(session, official.id, NOW, ttl_days=14)
    new = create_invite(session, official.id, NOW + timedelta(hours=1), ttl_days=14)
    later = NOW + timedelta(hours=2)
    assert check_invite(session, old.code, later) is InviteProblem.EXPIRED
    assert isinstance(check_invite(session, new.code, later), Invite)


def test_bad_arguments(session: Session, official: Official) -> None:
    assert official.id is not None
    with pytest.raises(ValueError, match="naive"):
        create_invite(session, official.id, datetime(2026, 6, 22), ttl_days=14)
    with pytest.raises(ValueError, match="ttl_days"):
        create_invite(session, official.id, NOW, ttl_days=0)
    with pytest.raises(ValueError, match="no official"):
        create_invite(session, 9999, NOW, ttl_days=14)
    assert session.exec(select(Invite)).all() == []


def test_only_a_hash_of_the_code_is_stored(session: Session, official: Official) -> None:
    assert official.id is not None
    issued = create_invite(session, official.id, NOW, ttl_days=14)
    session.commit()
    row = session.exec(select(Invite)).one()
    assert row.code_hash == hash_code(issued.code) == hash_code(issued.code.lower())
    assert issued.code not in row.code_hash and len(row.code_hash) == 64
    dumped = " ".join(str(value) for value in row.model_dump().values())
    assert issued.code not in dumped
