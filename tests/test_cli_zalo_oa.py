"""``papi-bot zalo-oa authorize`` against the fake OA server: OAuth v4 with PKCE, the pair
stored in the database, never printed."""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from bot.channels.zalo_oa import oauth
from bot.channels.zalo_oa.tokens import OATokenManager
from bot.cli import app
from kernel.clock import SystemClock
from storage.db import session_scope
from storage.oa_tokens import TokenPair, get_tokens, release_claim, store_authorized
from tests.fakes.fake_zalo_oa import FakeZaloOA

CALLBACK = "https://papi.example.vn/zalo/callback"
Run = Callable[..., Awaitable[Result]]


@pytest.fixture
async def fake_oa() -> AsyncIterator[FakeZaloOA]:
    server = FakeZaloOA()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(
    tmp_path: Path,
    db_url: str,
    engine: Engine,
    data_dir: Path,
    fake_oa: FakeZaloOA,
    monkeypatch: pytest.MonkeyPatch,
) -> Run:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[app]\ndefault_locale = "en"\ndata_dir = "{data_dir}"\n\n'
        f'[database]\nurl = "{db_url}"\n\n'
        f'[zalo.oa]\noauth_base = "{fake_oa.base_url}"\nredirect_uri = "{CALLBACK}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PAPI_BOT_CONFIG", str(config))
    monkeypatch.delenv("PAPI_BOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("ZALO_OA_APP_ID", fake_oa.app_id)
    monkeypatch.setenv("ZALO_OA_APP_SECRET", fake_oa.app_secret)
    runner = CliRunner()

    async def run(*args: str, input: str | None = None) -> Result:
        # In a thread: the command runs its own event loop while the fake answers in ours.
        return await asyncio.to_thread(runner.invoke, app, ["zalo-oa", *args], input=input)

    return run


def stored(engine: Engine, app_id: str) -> TokenPair | None:
    with session_scope(engine) as session:
        return get_tokens(session, app_id)


def url_in(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("http"))


def no_token_in(text: str, fake: FakeZaloOA) -> None:
    for token in [*fake.valid_access, fake.current_refresh or "-"]:
        assert token not in text, "a token was printed or logged"


async def test_authorize_in_two_steps_stores_the_pair(
    cli: Run,
    engine: Engine,
    fake_oa: FakeZaloOA,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    printed = await cli("authorize", "--print-url")
    assert printed.exit_code == 0, printed.output
    url = url_in(printed.output)
    assert url.startswith(f"{fake_oa.base_url}/v4/oa/permission?")
    query = parse_qs(urlsplit(url).query)
    assert query["app_id"] == [fake_oa.app_id] and query["redirect_uri"] == [CALLBACK]
    pending = data_dir / "zalo-oa-authorize.json"
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600  # the verifier: the bot's user only
    assert stored(engine, fake_oa.app_id) is None

    # The admin allows it; Zalo sends the browser to the callback with the code and state.
    code = fake_oa.new_code(query["code_challenge"][0])
    address = f"{CALLBACK}?code={code}&oa_id=579745863508352884&state={query['state'][0]}"
    done = await cli("authorize", "--code", address)
    assert done.exit_code == 0, done.output
    assert "authorised" in done.output
    pair = stored(engine, fake_oa.app_id)
    assert pair is not None and not pair.needs_reauthorization
    assert pair.refresh_token == fake_oa.current_refresh
    assert pair.access_token in fake_oa.valid_access
    assert pair.access_expires_at - SystemClock().now() > timedelta(hours=24)
    assert not pending.exists()
    no_token_in(printed.output + done.output + caplog.text, fake_oa)

    # papi-bot run's token manager uses the stored pair as it is.
    async with httpx.AsyncClient() as http:
        manager = OATokenManager(
            engine=engine,
            http=http,
            app_id=fake_oa.app_id,
            app_secret=fake_oa.app_secret,
            oauth_base=fake_oa.base_url,
        )
        assert await manager.access_token() == pair.access_token
    assert fake_oa.refreshes == []


async def test_authorize_prompts_for_the_code(
    cli: Run, engine: Engine, fake_oa: FakeZaloOA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One step: the URL, then the prompt; a re-authorisation replaces a refused pair."""
    now = SystemClock().now()
    with session_scope(engine) as session:
        old = store_authorized(
            session,
            fake_oa.app_id,
            access_token="old-access",
            refresh_token="old-refresh",
            access_expires_at=now + timedelta(hours=1),
            now=now,
        )
        release_claim(session, fake_oa.app_id, old.generation, now, needs_reauthorization=True)
    pkce = oauth.new_pkce()
    monkeypatch.setattr(oauth, "new_pkce", lambda: pkce)  # the test must know the challenge
    code = fake_oa.new_code(pkce.challenge)
    result = await cli("authorize", input=f"{code}\n")
    assert result.exit_code == 0, result.output
    assert url_in(result.output).count(pkce.challenge) == 1
    pair = stored(engine, fake_oa.app_id)
    assert pair is not None and pair.refresh_token == fake_oa.current_refresh
    assert not pair.needs_reauthorization and pair.generation == old.generation + 1
    no_token_in(result.output, fake_oa)


async def test_a_refused_code_stores_nothing_and_says_so(
    cli: Run, engine: Engine, fake_oa: FakeZaloOA, data_dir: Path
) -> None:
    printed = await cli("authorize", "--print-url")
    state = parse_qs(urlsplit(url_in(printed.output)).query)["state"][0]
    wrong = await cli("authorize", "--code", "code-that-zalo-never-issued")
    assert wrong.exit_code == 2 and "Zalo refused the code" in wrong.output
    assert stored(engine, fake_oa.app_id) is None
    assert not (data_dir / "zalo-oa-authorize.json").exists()  # start again
    again = await cli("authorize", "--code", "anything")
    assert again.exit_code == 2 and "no authorisation is waiting" in again.output
    await cli("authorize", "--print-url")
    other = await cli("authorize", "--code", f"{CALLBACK}?code=c&state={state}")
    assert other.exit_code == 2 and "another authorisation" in other.output


async def test_missing_settings_are_named(
    cli: Run, fake_oa: FakeZaloOA, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_callback = await cli("authorize", "--redirect-uri", " ")
    assert no_callback.exit_code == 2 and "redirect_uri" in no_callback.output
    monkeypatch.delenv("ZALO_OA_APP_SECRET")
    no_secret = await cli("authorize", "--print-url")
    assert no_secret.exit_code == 2 and "ZALO_OA_APP_SECRET" in no_secret.output
