"""Building the Zalo OA pieces from the settings: what the registry's wiring calls.

Needs ZALO_OA_APP_ID, ZALO_OA_APP_SECRET (token refresh) and ZALO_OA_SECRET_KEY (webhook
signatures). ZALO_OA_REFRESH_TOKEN only seeds an empty database (``seed_from_env``); after
the first refresh the database holds the live pair and the variable is stale by design.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from bot.channels.zalo_oa.client import ZaloOAClient
from bot.channels.zalo_oa.tokens import OATokenManager
from bot.config import Settings
from kernel.clock import Clock, SystemClock
from storage.db import session_scope
from storage.oa_tokens import seed_refresh_token


@dataclass(frozen=True)
class OAParts:
    client: ZaloOAClient
    tokens: OATokenManager
    app_id: str
    secret_key: str  # for webhook.make_handler


def _required(value: SecretStr | None, variable: str) -> str:
    text = value.get_secret_value().strip() if value is not None else ""
    if not text:
        raise ValueError(f"Zalo OA is configured but {variable} is not set")
    return text


def oa_from_settings(
    settings: Settings, engine: Engine, http: httpx.AsyncClient, clock: Clock | None = None
) -> OAParts:
    secrets, oa = settings.secrets, settings.zalo.oa
    app_id = _required(secrets.zalo_oa_app_id, "ZALO_OA_APP_ID")
    tokens = OATokenManager(
        engine=engine,
        http=http,
        app_id=app_id,
        app_secret=_required(secrets.zalo_oa_app_secret, "ZALO_OA_APP_SECRET"),
        oauth_base=oa.oauth_base,
        refresh_ahead_seconds=oa.refresh_ahead_seconds,
        lease_seconds=oa.refresh_lease_seconds,
        clock=clock,
    )
    client = ZaloOAClient(
        http=http,
        tokens=tokens,
        api_base=oa.api_base,
        text_limit=oa.text_limit,
        buttons_enabled=oa.buttons_enabled,
        max_buttons=oa.max_buttons,
        payload_prefix=oa.button_payload_prefix,
    )
    secret_key = _required(secrets.zalo_oa_secret_key, "ZALO_OA_SECRET_KEY")
    return OAParts(client=client, tokens=tokens, app_id=app_id, secret_key=secret_key)


def seed_from_env(settings: Settings, engine: Engine, clock: Clock | None = None) -> bool:
    """Store ZALO_OA_REFRESH_TOKEN if the database has no pair yet; True if it did."""
    value = settings.secrets.zalo_oa_refresh_token
    if value is None or not value.get_secret_value().strip():
        return False
    app_id = _required(settings.secrets.zalo_oa_app_id, "ZALO_OA_APP_ID")
    now = (clock or SystemClock()).now()
    with session_scope(engine) as session:
        return seed_refresh_token(session, app_id, value.get_secret_value().strip(), now)
