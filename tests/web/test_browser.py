"""The console in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium,
installed by scripts/install-browser.sh; Playwright downloads nothing), against the real
``papi-bot run`` process, which serves the console beside the bot on the fake Bot API server.

One walk through a coordinator's morning: sign in with the code the bot sent to the admin's
Telegram chat, upload a seed plan, fix a dimension in the review table, commit, see the
dashboard's figures change after an official's status reply arrives through Telegram, and
download the DOCX report; on the way an agency is corrected in the review table, and a
commune's invite sheet is downloaded as PDF. Set PAPI_BOT_SCREENSHOTS=docs/img to refresh
the README's pictures.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
import pytest_asyncio
from aiohttp import ClientSession
from playwright.async_api import Browser, Page, async_playwright
from pypdf import PdfReader
from sqlmodel import Session, col, select

from storage.db import make_engine, session_scope, upgrade
from storage.models import Assignment, Plan, Task
from storage.taxonomy import sync_taxonomy
from tests.e2e.conftest import TOKEN, BotProcess
from tests.fakes.fake_telegram import FakeTelegram, SentMessage
from tests.web.conftest import Tree, build_tree

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = os.environ.get("PAPI_BOT_CHROMIUM", "/usr/bin/chromium")
ADMIN_CHAT, OFFICIAL_USER = "7001", 7003


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    url: str
    fake: FakeTelegram
    tree: Tree
    db_url: str
    shots: Path


async def wait_up(url: str, bot: BotProcess) -> None:
    async with ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the console did not come up:\n{bot.log_text()[-3000:]}")


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    db_url = f"sqlite:///{tmp_path / 'papi-bot.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        sync_taxonomy(session)
    tree = build_tree(engine)
    engine.dispose()
    fake = FakeTelegram(TOKEN)
    await fake.start()
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[app]\ndata_dir = "{tmp_path / "data"}"\n\n'
        f'[database]\nurl = "{db_url}"\n\n'
        f'[telegram]\napi_base = "{fake.base_url}"\nbot_username = "papi_test_bot"\n'
        "global_rate_per_second = 1000\nper_chat_rate_per_second = 100\n\n"
        '[zalo]\nbot_link = "https://zalo.me/2961234567890"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\n',
        encoding="utf-8",
    )
    os.environ["PAPI_BOT_CONSOLE_SECRET"] = "browser-test-console-secret"
    bot = BotProcess(config, tmp_path / "bot.log")
    url = f"http://127.0.0.1:{port}"
    await bot.start()
    try:
        await wait_up(url, bot)
        (tmp_path / "shots").mkdir()
        yield Site(url, fake, tree, db_url, tmp_path / "shots")
    finally:
        os.environ.pop("PAPI_BOT_CONSOLE_SECRET", None)
        assert await bot.stop() == 0, bot.log_text()[-3000:]
        await fake.stop()
    assert TOKEN not in bot.log_text()


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    if not is_file(Path(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} not found: run scripts/install-browser.sh (scripts/test.sh does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


async def shot(page: Page, site: Site, name: str) -> None:
    path = site.shots / name
    await page.screenshot(path=str(path), full_page=False)
    publish(path, os.environ.get("PAPI_BOT_SCREENSHOTS"))


def is_file(path: Path) -> bool:
    return path.is_file()


def publish(path: Path, target: str | None) -> None:
    """Copy a screenshot to the docs (only when asked: a test run leaves the tree alone)."""
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def seed_plan(seeds_dir: Path) -> Path:
    return sorted(seeds_dir.glob("000_*.txt"))[0]


def code_in(messages: list[SentMessage]) -> str:
    for message in reversed(messages):
        found = re.search(r"\b(\d{6})\b", message.text or "")
        if found:
            return found.group(1)
    raise AssertionError(f"no sign-in code in {[m.text for m in messages]}")


async def telegram_done(site: Site) -> int:
    """The commune official opens a task in Telegram and presses "done"; its assignment id."""
    fake = site.fake
    before = len(fake.sent_to(OFFICIAL_USER))
    await fake.inject_message(OFFICIAL_USER, "/nhiemvu")
    listing = (await fake.wait_sent(before + 1, chat_id=OFFICIAL_USER))[before:]
    payloads = [b["callback_data"] for m in listing for row in m.buttons for b in row]
    view = next(p for p in payloads if p.startswith("a:") and p.endswith(":view"))
    assignment_id = int(view.split(":")[1])
    count = len(fake.sent_to(OFFICIAL_USER))
    await fake.press_button(OFFICIAL_USER, listing[-1].message_id, view)
    shown = await fake.wait_sent(count + 1, chat_id=OFFICIAL_USER)
    await fake.press_button(OFFICIAL_USER, shown[-1].message_id, f"a:{assignment_id}:done")
    engine = make_engine(site.db_url)
    try:
        for _ in range(200):
            with Session(engine) as session:
                assignment = session.get(Assignment, assignment_id)
                if assignment is not None and assignment.status == "done":
                    return assignment_id
            await asyncio.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError("the status reply was not applied")


async def sign_in(page: Page, site: Site) -> None:
    await page.goto(f"{site.url}/login")
    await page.fill("#phone", "0901 000 001")
    before = len(site.fake.sent_to(ADMIN_CHAT))
    await page.click("button[type=submit]")
    await page.wait_for_selector("#code")
    sent = await site.fake.wait_sent(before + 1, chat_id=ADMIN_CHAT)
    await page.fill("#code", code_in(sent))
    await page.click("main button[type=submit]")
    await page.wait_for_selector("#totals")


async def done_figure(page: Page) -> int:
    return int(await page.inner_text('[data-figure="done"]'))


async def test_a_coordinators_morning_in_the_browser(
    site: Site, browser: Browser, seeds_dir: Path, tmp_path: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="vi-VN"
    )
    page = await context.new_page()
    await sign_in(page, site)
    assert "Bảng điều khiển" in await page.inner_text("header")

    # Upload a real seed plan, fix the first task's dimension, commit.
    await page.click("text=Kế hoạch")
    seed = seed_plan(seeds_dir)
    await page.set_input_files("#file", str(seed))
    await page.click("form[action='/plans/upload'] button")
    await page.wait_for_selector("table.review")
    flagged = page.locator("tr.flagged, tr:has(.agency.unresolved)")
    if await flagged.count():  # show what a reviewer has to look at
        await flagged.first.scroll_into_view_if_needed()
    await shot(page, site, "console-review.png")
    first = page.locator("select[name=dim-0]")
    chosen = "8" if await first.input_value() != "8" else "7"
    await first.select_option(chosen)
    await page.fill("textarea[name=lead-0]", "Sở Nội vụ")  # an agency corrected by hand
    await page.click("button[value=commit]")
    await page.wait_for_selector("p.ok")
    engine = make_engine(site.db_url)
    try:
        with Session(engine) as session:
            plan = session.exec(select(Plan).order_by(col(Plan.id).desc())).first()
            assert plan is not None and plan.source_file == seed.name
            task = session.exec(select(Task).where(Task.plan_id == plan.id, Task.order == 1)).one()
            assert task.dimension == int(chosen) and task.lead_raw == "Sở Nội vụ"
    finally:
        engine.dispose()

    # The dashboard's figures move when an official's reply arrives through Telegram.
    dashboard = f"{site.url}/units/{site.tree.province.id}?period=year"
    await page.goto(dashboard)
    before = await done_figure(page)
    await telegram_done(site)
    await page.goto(dashboard)
    assert await done_figure(page) == before + 1
    await shot(page, site, "console-dashboard.png")

    # The DOCX report, downloaded as the browser does, opens in python-docx.
    async with page.expect_download() as download_info:
        await page.click("a[href*='report.docx']")
    download = await download_info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    text = "\n".join(p.text for p in docx.Document(str(saved)).paragraphs)
    assert "BÁO CÁO" in text.upper()

    # A commune's invite sheet as PDF: the official's name with its diacritics, two QR codes.
    await page.goto(f"{site.url}/invites")
    await page.select_option("#unit_id", str(site.tree.commune_a.id))
    async with page.expect_download() as sheet_info:
        await page.click("button[value=pdf]")
    sheet = tmp_path / "invites.pdf"
    await (await sheet_info.value).save_as(sheet)
    reader = PdfReader(str(sheet))
    assert site.tree.official.name in reader.pages[0].extract_text()
    assert len(reader.pages[0].images) == 2  # Telegram and Zalo

    # On a phone-sized screen the page itself does not scroll sideways (wide tables do).
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(dashboard)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await context.close()
