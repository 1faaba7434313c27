"""The weekly digest names the officials the bot cannot reach on any channel: each of their
linked accounts was refused by its platform (``ChannelIdentity.unreachable_at``)."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.scheduler.digest import collect, render
from kernel.i18n import use_locale
from storage.models import ChannelIdentity
from storage.reachability import unreachable_everywhere
from tests.scheduler.world import World, small_province, vn

MONDAY = vn(2026, 8, 17, 7, 30)


def _identity(world: World, key: str) -> ChannelIdentity:
    found = world.session.exec(
        select(ChannelIdentity).where(ChannelIdentity.official_id == world.officials[key].id)
    ).one()
    return found


def _second_account(world: World, key: str, channel: str) -> ChannelIdentity:
    official_id = world.officials[key].id or 0
    identity = ChannelIdentity(
        official_id=official_id,
        channel=channel,
        external_user_id=f"{channel}-{official_id}",
        chat_id=f"{channel}-{official_id}",
    )
    world.session.add(identity)
    world.session.flush()
    return identity


def blocked_world(session: Session) -> World:
    """Lan (commune A): Telegram and Zalo both refused, the later on 15/08. Hùng (A): Telegram
    refused, the OA still reachable. Bob (B): refused. Tâm (A): never linked. Cúc (A):
    refused but no longer active."""
    world = small_province(session)
    world.official("Tâm", "A", chat=False)
    world.official("Cúc", "A")
    _identity(world, "Lan").unreachable_at = vn(2026, 8, 12, 9)
    _second_account(world, "Lan", "zalo:xa-a").unreachable_at = vn(2026, 8, 15, 23, 30)
    _identity(world, "Hùng").unreachable_at = vn(2026, 8, 10, 9)
    _second_account(world, "Hùng", "zalo_oa")
    _identity(world, "Bob").unreachable_at = vn(2026, 8, 3, 9)
    _identity(world, "Cúc").unreachable_at = vn(2026, 8, 3, 9)
    world.officials["Cúc"].active = False
    world.commit()
    return world


def test_only_officials_with_every_account_refused_are_listed(session: Session) -> None:
    world = blocked_world(session)
    province = unreachable_everywhere(session, world.units["P"].path)
    assert [(r.name, r.unit_name, r.channels) for r in province] == [
        ("Lan", "Xã An Hà", 2),
        ("Bob", "Xã Bình Sơn", 1),
    ]
    assert province[0].since == vn(2026, 8, 15, 23, 30)  # when the last account went
    commune = unreachable_everywhere(session, world.units["A"].path)
    assert [r.name for r in commune] == ["Lan"]


def test_an_account_reachable_again_takes_the_official_off_the_list(session: Session) -> None:
    world = blocked_world(session)
    _identity(world, "Bob").unreachable_at = None  # Bob wrote to the bot again
    world.commit()
    assert [r.name for r in unreachable_everywhere(session, world.units["P"].path)] == ["Lan"]


def test_the_digest_section_in_vietnamese_and_english(session: Session) -> None:
    world = blocked_world(session)
    data = collect(session, world.units["P"], MONDAY, silence_days=21)
    with use_locale("vi"):
        (text,) = render(data)
    section = next(s for s in text.split("\n\n") if s.startswith("Không liên lạc được"))
    assert section.splitlines() == [
        "Không liên lạc được qua kênh nào (đề nghị mở chặn bot hoặc nhắn tin lại cho bot) (2)",
        "- Lan (Xã An Hà): từ ngày 15 tháng 8 năm 2026",  # 23:30 Vietnam time is still the 15th
        "- Bob (Xã Bình Sơn): từ ngày 3 tháng 8 năm 2026",
    ]
    with use_locale("en"):
        (english,) = render(data)
    assert "Cannot be reached on any channel" in english
    assert "- Lan (Xã An Hà): since August 15, 2026" in english


def test_no_section_when_everyone_is_reachable(session: Session) -> None:
    world = small_province(session)
    world.commit()
    data = collect(session, world.units["P"], MONDAY, silence_days=21)
    assert data.unreachable == ()
    with use_locale("en"):
        (text,) = render(data)
    assert "Cannot be reached" not in text and text.endswith("Nothing to report this week.")
