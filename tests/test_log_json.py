"""Issue 16: structured JSON logs on request, redacted like the text lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.logsetup import configure_logging

TOKEN = "123456:JSON-log-token-abcdef"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers, root.level = saved[0], saved[1]


def test_json_lines_are_objects_without_token_or_phone(tmp_path: Path, restore_root: None) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[app]\nlog_format = "json"\n', encoding="utf-8")
    settings = load_settings(config, {"TELEGRAM_BOT_TOKEN": TOKEN}, use_default_path=False)
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    log = logging.getLogger("papi_bot.test")
    log.info("token %s for 0912345678 — xã Hòa Bình", TOKEN)
    try:
        raise RuntimeError(f"boom {TOKEN}")
    except RuntimeError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "papi_bot.test"
    assert first["message"] == "token <secret> for <phone> — xã Hòa Bình"
    assert second["message"] == "failed" and "RuntimeError: boom <secret>" in second["exception"]
    assert TOKEN not in stream.getvalue()


def test_text_stays_the_default(tmp_path: Path, restore_root: None) -> None:
    settings = load_settings(None, {}, use_default_path=False)
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    logging.getLogger("papi_bot.test").warning("plain")
    assert stream.getvalue().rstrip().endswith("WARNING papi_bot.test: plain")
