"""``papi-bot run``: refuses to start clearly; logs carry no token and no phone number."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.app import StartupError, serve_telegram
from bot.config import Settings, TelegramConfig, load_settings
from bot.logsetup import RedactingFormatter, configure_logging
from kernel.clock import SystemClock
from tests.fakes.fake_telegram import FakeTelegram

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "313131:RUN-cli-token-that-must-not-print"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.mark.e2e
def test_unreachable_bot_api_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite"}"\n\n'
        f'[telegram]\napi_base = "http://127.0.0.1:{_closed_port()}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PAPI_BOT_CONFIG": str(config)}
    env.pop("PAPI_BOT_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Bot API" in done.stderr and "127.0.0.1" in done.stderr
    assert TOKEN not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_log_lines_carry_no_token_and_no_phone_number() -> None:
    settings = load_settings(None, {"TELEGRAM_BOT_TOKEN": TOKEN}, use_default_path=False)
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging(settings, stream=stream)
        log = logging.getLogger("papi_bot.test")
        log.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        log.info("official +84912345678 (0912345678) linked; chat 5012345678 update 84123456789")
        try:
            raise RuntimeError(f"boom with {TOKEN}")
        except RuntimeError:
            log.exception("failed")
    finally:
        root.handlers, root.level = saved[0], saved[1]
    text = stream.getvalue()
    assert TOKEN not in text and "<secret>" in text
    assert "912345678" not in text and text.count("<phone>") == 2
    assert "5012345678" in text  # a chat id is not a phone number


def test_formatter_keeps_ordinary_text() -> None:
    formatter = RedactingFormatter("%(message)s", ["s3cret"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %d messages", (12,), None)
    assert formatter.format(record) == "sent 12 messages"


async def test_webhook_mode_without_secret_refuses_to_start(engine: Engine) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    try:
        settings = Settings(
            telegram=TelegramConfig(
                api_base=fake.base_url, mode="webhook", webhook_url="https://bot.example.vn/hook"
            )
        )
        with pytest.raises(StartupError, match="TELEGRAM_WEBHOOK_SECRET"):
            await serve_telegram(engine, settings, SystemClock(), TOKEN, asyncio.Event())
    finally:
        await fake.stop()
    assert fake.webhook is None  # nothing was registered with Telegram


async def test_wrong_token_refuses_to_start_without_leaking_it(engine: Engine) -> None:
    fake = FakeTelegram("999:another-token")
    await fake.start()
    try:
        settings = Settings(telegram=TelegramConfig(api_base=fake.base_url))
        with pytest.raises(StartupError) as caught:
            await serve_telegram(engine, settings, SystemClock(), TOKEN, asyncio.Event())
    finally:
        await fake.stop()
    assert "Unauthorized" in str(caught.value) and TOKEN not in str(caught.value)
