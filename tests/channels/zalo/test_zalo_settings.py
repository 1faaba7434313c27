"""The [zalo] and [zalo.oa] settings, the Zalo secrets from the environment, and building the
clients from them (a missing secret names its variable, never a value)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.channels.zalo_bot.setup import bot_client, webhook_secret
from bot.channels.zalo_oa.setup import oa_from_settings, seed_from_env
from bot.config import ConfigError, load_settings
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.oa_tokens import get_tokens

ENV = {
    "ZALO_BOT_TOKEN": "1000:bot-secret-value",
    "ZALO_WEBHOOK_SECRET": "hook-secret-value",
    "ZALO_OA_APP_ID": "4321",
    "ZALO_OA_APP_SECRET": "app-secret-value",
    "ZALO_OA_SECRET_KEY": "oa-key-value",
    "ZALO_OA_REFRESH_TOKEN": "refresh-from-env",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_safe_ones() -> None:
    zalo = load_settings(None, env={}, use_default_path=False).zalo
    assert zalo.mode == "webhook" and zalo.text_limit == 2000
    assert zalo.poll_min_interval_seconds == 1.0 and zalo.date_unit == "auto"
    assert (zalo.quota_users_per_bot, zalo.quota_messages_per_month) == (50, 3000)
    assert zalo.oa.signature_slack_seconds == 7200 and zalo.oa.buttons_enabled
    assert zalo.oa.api_base == "https://openapi.zalo.me"


def test_the_file_sets_both_sections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[zalo]\napi_base = "https://bot-api.zapps.me"\ndate_unit = "s"\n'
        "quota_messages_per_month = 10000\n[zalo.oa]\nbuttons_enabled = false\n",
    )
    zalo = load_settings(path, env={}).zalo
    assert zalo.api_base == "https://bot-api.zapps.me" and zalo.date_unit == "s"
    assert zalo.quota_messages_per_month == 10000 and not zalo.oa.buttons_enabled


@pytest.mark.parametrize(
    "text",
    [
        "[zalo]\npoll_min_interval_seconds = 0.2\n",  # faster than Zalo tolerates
        '[zalo]\ndate_unit = "minutes"\n',
        "[zalo]\ntext_limit = 4096\n",
        "[zalo.oa]\nunknown = 1\n",
    ],
)
def test_bad_values_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="zalo"):
        load_settings(write(tmp_path, text), env={})


def test_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment"):
        load_settings(write(tmp_path, '[zalo.oa]\nrefresh_token = "x"\n'), env={})


def test_secrets_come_from_the_environment_and_never_print() -> None:
    settings = load_settings(None, env=ENV, use_default_path=False)
    secrets = settings.secrets
    assert secrets.zalo_oa_secret_key is not None
    assert secrets.zalo_oa_secret_key.get_secret_value() == "oa-key-value"
    for value in ENV.values():
        assert value not in repr(settings) and value not in str(settings.model_dump())


async def test_building_the_clients(engine: Engine, clock: FixedClock) -> None:
    settings = load_settings(None, env=ENV, use_default_path=False)
    async with httpx.AsyncClient() as http:
        client = bot_client(settings, http)
        assert client.bot_id == "1000" and client.text_limit == 2000
        assert webhook_secret(settings) == "hook-secret-value"
        parts = oa_from_settings(settings, engine, http, clock)
        assert parts.app_id == "4321" and parts.secret_key == "oa-key-value"
        assert parts.client.buttons_enabled
    assert seed_from_env(settings, engine, clock)
    assert not seed_from_env(settings, engine, clock)  # once only: then the database rules
    with session_scope(engine) as session:
        pair = get_tokens(session, "4321")
    assert pair is not None and pair.refresh_token == "refresh-from-env"


@pytest.mark.parametrize(
    ("missing", "variable"),
    [("ZALO_BOT_TOKEN", "ZALO_BOT_TOKEN"), ("ZALO_OA_SECRET_KEY", "ZALO_OA_SECRET_KEY")],
)
async def test_a_missing_secret_names_its_variable(
    engine: Engine, missing: str, variable: str
) -> None:
    env = {key: value for key, value in ENV.items() if key != missing}
    settings = load_settings(None, env=env, use_default_path=False)
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match=variable):
            bot_client(settings, http)
            oa_from_settings(settings, engine, http)


def test_a_short_webhook_secret_is_refused_without_showing_it() -> None:
    settings = load_settings(
        None, env={**ENV, "ZALO_WEBHOOK_SECRET": "short"}, use_default_path=False
    )
    with pytest.raises(ValueError, match="8-256") as caught:
        webhook_secret(settings)
    assert "short" not in str(caught.value)
