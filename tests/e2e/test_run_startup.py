"""``papi-bot run`` reaches its first getUpdates without loading what polling does not need.

The real process (``python -X importtime -m bot run``) against the fake Bot API on an
initialised database: what its import log holds at the moment the fake server sees the first
``getUpdates`` is everything imported before polling began. A behaviour test, not a timing
test (the figures are benchmarks/bench_telegram.py's "ready" column, docs/performance.md).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from storage.db import make_engine, session_scope, upgrade
from storage.taxonomy import sync_taxonomy
from tests.e2e.conftest import REPO_ROOT, TOKEN
from tests.fakes.fake_telegram import FakeTelegram

pytestmark = [pytest.mark.e2e]

# Loaded only when a console page, a report, a sheet, a migration or the demo needs them.
NOT_BEFORE_POLLING = (
    "openpyxl",  # XLSX tables and uploads (≈0.4 s with PIL and numpy)
    "PIL",
    "numpy",
    "docx",
    "segno",
    "fpdf",
    "matplotlib",
    "alembic",  # the database is at head: no migration context
    "mako",
    "jinja2",  # the console's templates: with its first page
    "bot.demo",
)
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)


async def test_run_polls_before_loading_reports_migrations_or_the_demo(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'papi-bot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        sync_taxonomy(session)
    engine.dispose()
    fake = FakeTelegram(TOKEN)
    await fake.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[telegram]\napi_base = "{fake.base_url}"\n',
        encoding="utf-8",
    )
    log_path = tmp_path / "importtime.log"
    at_first_poll: list[str] = []
    polled = asyncio.Event()
    serve_poll = fake._m_getUpdates

    async def first_poll(params: dict[str, Any]) -> web.Response:
        if not at_first_poll:  # the import log so far: what was loaded before polling
            at_first_poll.append(log_path.read_text(encoding="utf-8", errors="replace"))
            polled.set()
        return await serve_poll(params)

    fake._m_getUpdates = first_poll  # type: ignore[method-assign]
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PAPI_BOT_CONFIG": str(config)}
    env.pop("PAPI_BOT_DATABASE_URL", None)
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "bot",
            "run",
            cwd=REPO_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
    try:
        await asyncio.wait_for(polled.wait(), 90)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        await fake.stop()
    modules = set(IMPORTED.findall(at_first_poll[0]))
    assert "aiogram" in modules and "bot.channels.telegram.lazy_models" in modules, (
        "the import log does not show the bot's own start"
    )
    early = [
        name
        for name in NOT_BEFORE_POLLING
        if any(m == name or m.startswith(name + ".") for m in modules)
    ]
    assert early == [], f"loaded before the first getUpdates: {early}"
    assert proc.returncode == 0
