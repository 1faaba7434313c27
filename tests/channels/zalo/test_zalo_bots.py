"""Several Zalo bots bound to units ([[zalo.bots]]): the configuration, one registry channel
per bot, the start-up unit check, which bot an official belongs on, and what a valid code on
the wrong or a full bot gets (the conversation, through the real pipeline)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.base import StartupError
from bot.channels.quota import QuotaUse, month_start, quota_warnings, seat_warnings
from bot.channels.registry import default_registry
from bot.channels.seats import channel_seats, check_units, zalo_invite_line
from bot.config import ConfigError, Settings, load_settings
from bot.config_bots import ZaloBotBinding
from handlers.seats import seat_for_official
from kernel.clock import VN_TZ
from kernel.i18n import use_locale
from storage.db import session_scope
from storage.invites import check_invite, create_invite
from storage.models import ChannelIdentity, Official, OutboxMessage
from storage.outbox_rows import mark_sent
from storage.queue import insert_outbox_rows
from tests.handlers.helpers import World, make_world

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=VN_TZ)
BOTS_TOML = """
[[zalo.bots]]
name = "xa-a"
unit = "DEMO-X01"
token_env = "ZALO_BOT_TOKEN_XA_A"
secret_env = "ZALO_WEBHOOK_SECRET_XA_A"
label = "PAPI Xã An Lạc"

[[zalo.bots]]
name = "xa-b"
unit = "xa hoa thuan"
token_env = "ZALO_BOT_TOKEN_XA_B"
link = "https://zalo.me/s/xa-b"
"""


def bots_settings(
    *, default: bool = True, tokens: tuple[str, ...] = ("xa-a", "xa-b"), users: int = 50
) -> Settings:
    """Bot xa-a on commune X01 (by code), xa-b on X02 (by a name typed without diacritics)."""
    base = Settings()
    zalo = base.zalo.model_copy(
        update={
            "bots": [
                ZaloBotBinding(
                    name="xa-a", unit="DEMO-X01", token_env="T_A", label="PAPI Xã An Lạc"
                ),
                ZaloBotBinding(
                    name="xa-b", unit="xa hoa thuan", token_env="T_B", link="https://zalo.me/s/b"
                ),
            ],
            "quota_users_per_bot": users,
            "bot_label": "PAPI Tỉnh",
        }
    )
    secrets = base.secrets.model_copy(
        update={
            "zalo_bot_token": SecretStr("1000:default") if default else None,
            "zalo_bot_tokens": {name: SecretStr(f"20{i}:bound") for i, name in enumerate(tokens)},
        }
    )
    return base.model_copy(update={"zalo": zalo, "secrets": secrets})


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine, NOW)


def code_for(world: World, who: str) -> str:
    with session_scope(world.engine) as session:
        return create_invite(session, world.people[who].id or 0, NOW, 14).code


def linked(world: World, who: str) -> list[str]:
    with Session(world.engine) as session:
        rows = session.exec(
            select(ChannelIdentity.channel).where(
                ChannelIdentity.official_id == world.people[who].id
            )
        )
        return sorted(rows)


# --- configuration -------------------------------------------------------------------------


def test_bots_come_from_the_file_and_their_tokens_from_the_variables_they_name(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BOTS_TOML, encoding="utf-8")
    env = {"ZALO_BOT_TOKEN_XA_A": "201:aaa", "ZALO_WEBHOOK_SECRET_XA_A": "hook-secret-a"}
    settings = load_settings(path, env=env)
    assert [b.channel for b in settings.zalo.bots] == ["zalo:xa-a", "zalo:xa-b"]
    assert [b.path for b in settings.zalo.bots] == ["/zalo/webhook/xa-a", "/zalo/webhook/xa-b"]
    assert settings.secrets.zalo_bot_tokens["xa-a"].get_secret_value() == "201:aaa"
    assert "xa-b" not in settings.secrets.zalo_bot_tokens  # ZALO_BOT_TOKEN_XA_B is unset
    assert settings.secrets.zalo_bot_webhook_secrets["xa-a"].get_secret_value() == "hook-secret-a"
    assert "201:aaa" not in repr(settings) and "aaa" not in settings.model_dump_json()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('name = "Xã A"\nunit = "X"\ntoken_env = "T"\n', "zalo.bots.0.name"),
        ('name = "a-very-long-name"\nunit = "X"\ntoken_env = "T"\n', "1-11 characters"),
        ('name = "a"\nunit = "X"\ntoken_env = "lower"\n', "environment variable name"),
        ('name = "a"\nunit = "X"\ntoken_env = "ZALO_BOT_TOKEN"\n', "same token_env"),
        ('name = "a"\nunit = "X"\ntoken_env = "T"\ntoken = "1:x"\n', "only from the environment"),
        ('name = "a"\nunit = "X"\ntoken_env = "T"\ncolour = "red"\n', "unknown key"),
    ],
)
def test_a_wrong_bot_entry_is_refused_by_name(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[[zalo.bots]]\n{extra}", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, env={})


def test_two_bots_with_one_name_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    entry = '[[zalo.bots]]\nname = "a"\nunit = "X"\ntoken_env = "T{n}"\n'
    path.write_text(entry.format(n=1) + entry.format(n=2), encoding="utf-8")
    with pytest.raises(ConfigError, match="same name: a"):
        load_settings(path, env={})


# --- the registry ----------------------------------------------------------------------------


def test_each_bot_is_a_channel_of_its_own() -> None:
    settings = bots_settings(tokens=("xa-a",))
    registry = default_registry(settings)
    assert registry.names() == ["console", "telegram", "zalo", "zalo:xa-a", "zalo:xa-b", "zalo_oa"]
    assert default_registry().names() == ["console", "telegram", "zalo", "zalo_oa"]
    assert [k.name for k in registry.enabled(settings)] == ["zalo", "zalo:xa-a"]
    assert registry.kind("zalo:xa-b").webhook_route == "/zalo/webhook/xa-b"
    caps = registry.capabilities("zalo:xa-a", settings)
    assert (caps.monthly_quota, caps.max_users, caps.buttons) == (3000, 50, False)
    (note,) = registry.disabled_notes(settings)
    assert note.startswith("zalo:xa-b: T_B is not set, so this bot is disabled")
    assert all(len(name) <= 16 for name in registry.names())  # fits every channel column


def test_without_bots_nothing_changes() -> None:
    settings = Settings()
    assert default_registry(settings).names() == default_registry().names()
    assert channel_seats(settings) == ()
    assert default_registry(settings).disabled_notes(settings) == []


# --- the start-up check of the units -------------------------------------------------------


def test_bound_units_are_checked_against_the_units_table(world: World) -> None:
    with world.session() as session:
        check_units(session, bots_settings())  # a code and a name without diacritics
        wrong = bots_settings().zalo.model_copy(
            update={
                "bots": [
                    ZaloBotBinding(name="xa-a", unit="DEMO-X09", token_env="T_A"),
                    ZaloBotBinding(name="xa-b", unit="Xã An Lạc", token_env="T_B"),
                    ZaloBotBinding(name="xa-c", unit="DEMO-X01", token_env="T_C"),
                ]
            }
        )
        with pytest.raises(StartupError) as raised, use_locale("en"):
            check_units(session, Settings(zalo=wrong))
    text = str(raised.value)
    assert "zalo:xa-a: no unit has the code or name 'DEMO-X09'" in text
    assert "zalo:xa-c: Xã An Lạc is already bound to zalo:xa-b" in text


# --- which bot an official belongs on --------------------------------------------------------


def belongs(world: World, settings: Settings, who: str) -> str | None:
    with world.session() as session:
        official = session.get(Official, world.people[who].id)
        assert official is not None
        seat = seat_for_official(session, channel_seats(settings), "zalo", official)
        return None if seat is None else seat.channel


def test_the_nearest_bound_ancestor_else_the_default_bot(world: World) -> None:
    settings = bots_settings()
    assert belongs(world, settings, "off1a") == "zalo:xa-a"
    assert belongs(world, settings, "chair2") == "zalo:xa-b"
    assert belongs(world, settings, "off3a") == "zalo"  # X03 has no bot of its own
    assert belongs(world, settings, "coord") == "zalo"  # Sở Nội vụ, under the province
    # a bot without its token does not run: its officials go to the default bot
    assert belongs(world, bots_settings(tokens=("xa-b",)), "off1a") == "zalo"
    assert belongs(world, bots_settings(default=False), "off3a") is None


def test_the_invite_names_the_bot(world: World) -> None:
    with world.session() as session, use_locale("vi"):
        official = session.get(Official, world.people["off2a"].id)
        assert official is not None
        line = zalo_invite_line(session, bots_settings(), official)
        assert line == "Zalo: gửi mã cho bot “xa-b” (https://zalo.me/s/b)"
        assert zalo_invite_line(session, Settings(), official) is None  # no Zalo bot runs


# --- registering ---------------------------------------------------------------------------


def test_a_code_on_the_wrong_bot_names_the_right_one_and_stays_valid(world: World) -> None:
    world.settings = bots_settings()
    code = code_for(world, "off1a")
    answer = world.texts("zl-1", code, channel="zalo:xa-b")
    assert "PAPI Xã An Lạc" in answer and "Xã An Lạc" in answer, answer
    assert linked(world, "off1a") == []
    with world.session() as session:
        assert not isinstance(check_invite(session, code, NOW), Exception)
        assert check_invite(session, code, NOW).used_at is None  # type: ignore[union-attr]
    for _attempt in range(6):  # a valid code on the wrong bot is no guess: never locked out
        world.texts("zl-1", code, channel="zalo:xa-b")
    assert "Chào mừng" in world.texts("zl-1", code, channel="zalo:xa-a")
    assert linked(world, "off1a") == ["zalo:xa-a"]


def test_the_default_bot_sends_a_bound_official_to_their_bot(world: World) -> None:
    world.settings = bots_settings()
    answer = world.texts("zl-2", code_for(world, "off2a"), channel="zalo")
    assert "“xa-b”" in answer and linked(world, "off2a") == []
    assert "Chào mừng" in world.texts("zl-3", code_for(world, "off3a"), channel="zalo")
    # Telegram has no seats: anyone registers there
    assert "Chào mừng" in world.texts("tg-1", code_for(world, "off1b"), channel="telegram")


def test_a_full_bot_refuses_the_next_person_and_tells_the_coordinator(world: World) -> None:
    world.settings = bots_settings(users=2)
    coordinator = world.link("coord")  # on Telegram: where the notice goes
    for user, who in (("zl-a1", "chair1"), ("zl-a2", "off1a")):
        assert "Chào mừng" in world.texts(user, code_for(world, who), channel="zalo:xa-a")
    rows = world.send("zl-a3", code_for(world, "off1b"), channel="zalo:xa-a")
    refusal = [r for r in rows if r.chat_id == "zl-a3"]
    notice = [r for r in rows if r.official_id == world.people["coord"].id]
    assert len(refusal) == 1 and "2 người" in refusal[0].text, refusal
    assert linked(world, "off1b") == []
    assert len(notice) == 1 and notice[0].chat_id == coordinator
    assert notice[0].kind == "notice" and "2/2" in notice[0].text
    assert world.people["off1b"].name in notice[0].text
    # someone already served by the bot takes no new seat
    again = world.texts("zl-a2", code_for(world, "off1a"), channel="zalo:xa-a")
    assert "đã được liên kết" in again and "đủ" not in again, again
    # deactivating an official frees a seat
    with session_scope(world.engine) as session:
        chair = session.get(Official, world.people["chair1"].id)
        assert chair is not None
        chair.active = False
    assert "Chào mừng" in world.texts("zl-a3", code_for(world, "off1b"), channel="zalo:xa-a")


# --- quota per bot -------------------------------------------------------------------------


def sent_rows(engine: Engine, channel: str, count: int, at: datetime) -> None:
    with session_scope(engine) as session:
        rows = [{"channel": channel, "chat_id": f"c{n}", "text": "x"} for n in range(count)]
        for row_id in insert_outbox_rows(session, rows):
            mark_sent(session, row_id, at, f"e{row_id}")


def test_each_bot_counts_against_its_own_quota(world: World) -> None:
    base = bots_settings(users=3)
    settings = base.model_copy(
        update={"zalo": base.zalo.model_copy(update={"quota_messages_per_month": 10})}
    )
    sent_rows(world.engine, "zalo:xa-a", 8, NOW - timedelta(hours=1))
    sent_rows(world.engine, "zalo:xa-b", 7, NOW - timedelta(hours=1))
    sent_rows(world.engine, "zalo:xa-b", 5, month_start(NOW) - timedelta(minutes=1))
    sent_rows(world.engine, "zalo", 2, NOW - timedelta(hours=1))
    with Session(world.engine) as session:
        assert quota_warnings(session, settings, NOW) == [QuotaUse("zalo:xa-a", 8, 10)]
    for user, who in (("zl-a1", "chair1"), ("zl-a2", "off1a"), ("zl-a3", "off1b")):
        world.settings = settings
        world.texts(user, code_for(world, who), channel="zalo:xa-a")
    with Session(world.engine) as session:
        assert seat_warnings(session, settings) == [QuotaUse("zalo:xa-a", 3, 3)]
        kinds = session.exec(select(OutboxMessage.channel).order_by(col(OutboxMessage.id))).all()
    assert "zalo:xa-a" in kinds
