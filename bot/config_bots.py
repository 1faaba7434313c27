"""``[[zalo.bots]]``: more Zalo bots, each bound to a unit subtree (the free Zalo Bot plan
allows about 50 users and 3,000 messages a month per bot, so a province runs one bot per
commune or district). The default bot (``ZALO_BOT_TOKEN``) stays, bound to no unit.

Each bot names the environment variables its token and webhook secret come from; the file
never holds them. Whether the unit exists is checked against the database at start-up
(``bot.channels.seats.check_units``): the configuration alone cannot know.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

if TYPE_CHECKING:
    from bot.config import Secrets, Settings

BOT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,10}$")  # "zalo:" + name fits a 16-char column
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
DEFAULT_TOKEN_ENV = "ZALO_BOT_TOKEN"
DEFAULT_WEBHOOK_PATH = "/zalo/webhook"


class ZaloBotBinding(BaseModel):
    """One more Zalo bot (``[[zalo.bots]]``), bound to the subtree of ``unit``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # short ASCII key: the channel is "zalo:<name>", the webhook /zalo/webhook/<name>
    unit: str  # a unit's code, or its name as in the units table (checked at start-up)
    token_env: str
    secret_env: str = ""  # webhook mode needs it (8-256 characters)
    label: str = ""  # what officials look for in Zalo (the bot's display name); default: name
    link: str = ""  # optional: the bot's address or QR link, printed on invites
    webhook_path: str = ""  # default /zalo/webhook/<name>

    @field_validator("name")
    @classmethod
    def _short_key(cls, value: str) -> str:
        if not BOT_NAME.match(value):
            raise ValueError(
                "expected 1-11 characters: lower-case ASCII letters, digits and '-', "
                "starting with a letter or digit (the channel name is zalo:<name>)"
            )
        return value

    @field_validator("token_env", "secret_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if value and not ENV_NAME.match(value):
            raise ValueError("expected an environment variable name such as ZALO_BOT_TOKEN_XA_A")
        return value

    @field_validator("unit")
    @classmethod
    def _some_unit(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected a unit code or name")
        return value.strip()

    @field_validator("webhook_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError("expected a path starting with /")
        return value

    @property
    def channel(self) -> str:
        return f"zalo:{self.name}"

    @property
    def path(self) -> str:
        return self.webhook_path or f"{DEFAULT_WEBHOOK_PATH}/{self.name}"


def distinct_bots(bots: list[ZaloBotBinding]) -> list[ZaloBotBinding]:
    """Two bots may not share a name, a variable or a webhook path (with the default bot's)."""
    for what, values in (
        ("name", [b.name for b in bots]),
        ("token_env", [b.token_env for b in bots] + [DEFAULT_TOKEN_ENV]),
        ("secret_env", [b.secret_env for b in bots if b.secret_env]),
        ("webhook_path", [b.path for b in bots] + [DEFAULT_WEBHOOK_PATH]),
    ):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"two bots have the same {what}: {', '.join(twice)}")
    return bots


def with_bot_secrets(settings: Settings, env: Mapping[str, str]) -> Secrets:
    """The secrets with each bound bot's token and webhook secret read from the variables it
    names. A bot whose token variable is unset does not run (``bot.channels.zalo`` says so)."""
    tokens: dict[str, SecretStr] = {}
    secrets: dict[str, SecretStr] = {}
    for bot in settings.zalo.bots:
        token = env.get(bot.token_env, "").strip()
        if token:
            tokens[bot.name] = SecretStr(token)
        if bot.secret_env and env.get(bot.secret_env):
            secrets[bot.name] = SecretStr(env[bot.secret_env])
    update = {"zalo_bot_tokens": tokens, "zalo_bot_webhook_secrets": secrets}
    return settings.secrets.model_copy(update=update)
