"""Log lines to stderr with the secrets and phone numbers taken out: the one setup of every
process of the bot (``papi-bot run`` and its database process, ``bot.dbprocess``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import IO

from bot.config import Settings
from bot.logjson import JsonFormatter
from kernel.phones import redact_phones


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes secrets and phone numbers (tracebacks included)."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record), self._secrets)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<secret>")
    return redact_phones(text)


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.secrets.telegram_bot_token,
        settings.secrets.telegram_webhook_secret,
        settings.secrets.zalo_bot_token,
        settings.secrets.zalo_webhook_secret,
        settings.secrets.zalo_oa_app_secret,
        settings.secrets.zalo_oa_secret_key,
        settings.secrets.zalo_oa_refresh_token,
        settings.secrets.console_secret,
        *settings.secrets.zalo_bot_tokens.values(),
        *settings.secrets.zalo_bot_webhook_secrets.values(),
    ]
    return [value.get_secret_value() for value in values if value is not None]


def configure_logging(
    settings: Settings, *, level: int = logging.INFO, stream: IO[str] | None = None
) -> None:
    """Log lines to stderr, with the tokens and phone numbers taken out."""
    handler = logging.StreamHandler(stream or sys.stderr)
    secrets = secrets_of(settings)
    handler.setFormatter(
        JsonFormatter(lambda text: redact_text(text, secrets))
        if settings.app.log_format == "json"
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # one line per update is noise
