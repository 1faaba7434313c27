"""The OA token pair: refreshed ahead of expiry with the single-use rotating refresh token,
stored in the database before it is used, never lost to a crash, one refresher at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.channels.zalo_oa.client import ZaloOAClient
from bot.channels.zalo_oa.errors import OAReauthorizationNeeded, OAThrottled
from bot.channels.zalo_oa.oauth import consent_url, exchange_code, new_pkce
from bot.channels.zalo_oa.tokens import OATokenManager
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.oa_tokens import (
    claim_refresh,
    get_tokens,
    seed_refresh_token,
    store_authorized,
    store_refreshed,
)
from tests.channels.zalo.conftest import make_manager, store_pair
from tests.fakes.fake_zalo_oa import FakeZaloOA


def stored(engine: Engine, fake: FakeZaloOA) -> tuple[str, str, int]:
    with session_scope(engine) as session:
        pair = get_tokens(session, fake.app_id)
    assert pair is not None
    return pair.access_token, pair.refresh_token, pair.generation


def test_the_migration_creates_the_table(engine: Engine) -> None:
    assert "oatoken" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, SQLModel.metadata)
    assert [d for d in diff if d[0] in ("add_table", "add_column") and "oatoken" in str(d)] == []


def test_storage_compare_and_swap(engine: Engine, clock: FixedClock) -> None:
    now = clock.now()
    with session_scope(engine) as session:
        assert seed_refresh_token(session, "app", "r0", now)
        assert not seed_refresh_token(session, "app", "r-env-again", now)  # the DB is the truth
        pair = get_tokens(session, "app")
        assert pair is not None and pair.refresh_token == "r0" and pair.access_token == ""
        assert claim_refresh(session, "app", pair.generation, now, 60)
        assert not claim_refresh(session, "app", pair.generation, now, 60)  # leased
        assert claim_refresh(session, "app", pair.generation, now + timedelta(seconds=61), 60)

        def swap() -> bool:
            return store_refreshed(
                session,
                "app",
                pair.generation,
                access_token="a1",
                refresh_token="r1",
                access_expires_at=now,
                now=now,
            )

        assert swap()
        assert not swap()  # that generation is gone: a second writer changes nothing
        after = get_tokens(session, "app")
        assert after is not None and after.generation == pair.generation + 1
        assert (after.access_token, after.refresh_token) == ("a1", "r1")


async def test_a_fresh_token_is_used_without_refreshing(
    engine: Engine, manager: OATokenManager, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    access = store_pair(engine, fake_oa, clock, hours=20)
    assert await manager.access_token() == access
    assert fake_oa.refreshes == []


async def test_refresh_ahead_of_expiry_rotates_and_stores_before_use(
    engine: Engine, manager: OATokenManager, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    old_access = store_pair(engine, fake_oa, clock, hours=5)  # inside the 6 h margin
    _, old_refresh, generation = stored(engine, fake_oa)
    new_access = await manager.access_token()
    assert new_access != old_access
    assert fake_oa.refreshes == [old_refresh]
    access, refresh, new_generation = stored(engine, fake_oa)
    assert (access, refresh) == (new_access, fake_oa.current_refresh)
    assert new_generation == generation + 1
    with session_scope(engine) as session:
        pair = get_tokens(session, fake_oa.app_id)
    assert pair is not None and pair.access_expires_at == clock.now() + timedelta(seconds=90000)
    # the next refresh spends the NEW refresh token: the rotation is followed
    clock.advance(timedelta(hours=20))
    await manager.access_token()
    assert fake_oa.refreshes == [old_refresh, refresh]


async def test_every_token_the_api_sees_was_stored_first(
    engine: Engine, http: httpx.AsyncClient, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    store_pair(engine, fake_oa, clock, hours=1)
    unstored: list[str] = []

    def on_call(token: str) -> None:
        if stored(engine, fake_oa)[0] != token:
            unstored.append(token)

    fake_oa.on_api_call = on_call
    client = ZaloOAClient(
        http=http, tokens=make_manager(engine, http, fake_oa, clock), api_base=fake_oa.base_url
    )
    await client.send_text("u1", "một")
    fake_oa.expire_access()  # −216: refreshed and retried
    await client.send_text("u1", "hai")
    assert [s.text for s in fake_oa.sent] == ["một", "hai"]
    assert len(fake_oa.refreshes) == 2
    assert unstored == []


async def test_crash_between_refresh_and_store_keeps_a_working_pair(
    engine: Engine, http: httpx.AsyncClient, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    """Zalo rotated, the answer never reached the database (the process died): the stored
    pair is intact and its access token still works; the admin is asked to re-authorise
    well before it expires."""
    old_access = store_pair(engine, fake_oa, clock, hours=5)
    before = stored(engine, fake_oa)
    fake_oa.hang_refresh_seconds = 1
    crashing = make_manager(engine, http, fake_oa, clock)
    task = asyncio.create_task(crashing.access_token())
    for _ in range(100):
        if fake_oa.refreshes:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert fake_oa.refreshes and fake_oa.current_refresh != before[1]  # Zalo rotated
    task.cancel()  # the crash
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stored(engine, fake_oa) == before  # nothing half-written
    fake_oa.hang_refresh_seconds = 0

    # the restarted process: the lease of the dead one runs out, the refresh is refused
    clock.advance(timedelta(seconds=61))
    restarted = make_manager(engine, http, fake_oa, clock)
    assert await restarted.access_token() == old_access  # still valid: keeps working
    with session_scope(engine) as session:
        pair = get_tokens(session, fake_oa.app_id)
    assert pair is not None and pair.needs_reauthorization
    assert stored(engine, fake_oa) == before
    client = ZaloOAClient(http=http, tokens=restarted, api_base=fake_oa.base_url)
    await client.send_text("u1", "vẫn gửi được")
    assert fake_oa.sent[-1].access_token == old_access
    refreshes = len(fake_oa.refreshes)
    await restarted.access_token()
    assert len(fake_oa.refreshes) == refreshes  # flagged: the refused token is not retried
    clock.advance(timedelta(hours=5))  # now it has expired
    with pytest.raises(OAReauthorizationNeeded):
        await restarted.access_token()


async def test_crash_after_store_loses_nothing(
    engine: Engine, http: httpx.AsyncClient, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    store_pair(engine, fake_oa, clock, hours=5)
    first = make_manager(engine, http, fake_oa, clock)
    await first.refresh()  # stored, then the process dies before using it
    access, refresh, _ = stored(engine, fake_oa)
    restarted = make_manager(engine, http, fake_oa, clock)
    assert await restarted.access_token() == access
    clock.advance(timedelta(hours=20))
    assert await restarted.access_token() != access
    assert fake_oa.refreshes[-1] == refresh  # the stored refresh token was the live one


@pytest.mark.parametrize("hours", [1, -1])
async def test_two_processes_spend_the_refresh_token_once(
    engine: Engine, http: httpx.AsyncClient, fake_oa: FakeZaloOA, clock: FixedClock, hours: int
) -> None:
    """Both need a refresh; one spends the token. The other serves the old token while it is
    valid (hours=1) or waits for the new pair when the old one has expired (hours=-1)."""
    store_pair(engine, fake_oa, clock, hours=hours)
    fake_oa.hang_refresh_seconds = 0.3
    one, two = (
        make_manager(engine, http, fake_oa, clock),
        make_manager(engine, http, fake_oa, clock),
    )
    tokens = await asyncio.gather(one.access_token(), two.access_token())
    assert len(fake_oa.refreshes) == 1
    assert all(token in fake_oa.valid_access for token in tokens)
    assert stored(engine, fake_oa)[0] in tokens
    if hours < 0:
        assert tokens[0] == tokens[1] == stored(engine, fake_oa)[0]


async def test_rate_limited_refresh_keeps_the_old_token_and_no_flag(
    engine: Engine, manager: OATokenManager, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    access = store_pair(engine, fake_oa, clock, hours=5)
    fake_oa.refresh_faults.append(-32)
    assert await manager.access_token() == access
    with session_scope(engine) as session:
        pair = get_tokens(session, fake_oa.app_id)
    assert pair is not None and not pair.needs_reauthorization
    fake_oa.refresh_faults.append(-32)
    with pytest.raises(OAThrottled):
        await manager.refresh()
    assert await manager.access_token() != access  # the next attempt goes through


async def test_seeded_from_the_environment_refreshes_at_once(
    engine: Engine, manager: OATokenManager, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    _, refresh = fake_oa.issue_pair()
    with session_scope(engine) as session:
        seed_refresh_token(session, fake_oa.app_id, refresh, clock.now())
    access = await manager.access_token()
    assert access in fake_oa.valid_access and stored(engine, fake_oa)[0] == access


async def test_nothing_stored_asks_for_authorisation(manager: OATokenManager) -> None:
    with pytest.raises(OAReauthorizationNeeded, match="authorize"):
        await manager.access_token()


async def test_pkce_consent_and_code_exchange(
    engine: Engine, http: httpx.AsyncClient, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    pkce = new_pkce()
    url = consent_url(
        app_id=fake_oa.app_id,
        redirect_uri="https://papi.example/cb",
        pkce=pkce,
        oauth_base=fake_oa.base_url,
    )
    assert "/v4/oa/permission?" in url and f"code_challenge={pkce.challenge}" in url
    assert 43 <= len(pkce.verifier) <= 128
    code = fake_oa.new_code(pkce.challenge)
    issued = await exchange_code(
        http,
        app_id=fake_oa.app_id,
        app_secret=fake_oa.app_secret,
        code=code,
        verifier=pkce.verifier,
        now=clock.now(),
        oauth_base=fake_oa.base_url,
    )
    with session_scope(engine) as session:
        store_authorized(
            session,
            fake_oa.app_id,
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            access_expires_at=issued.access_expires_at,
            now=clock.now(),
        )
    assert stored(engine, fake_oa)[0] in fake_oa.valid_access
    with pytest.raises(OAReauthorizationNeeded):  # a code is single-use, a wrong verifier fails
        await exchange_code(
            http,
            app_id=fake_oa.app_id,
            app_secret=fake_oa.app_secret,
            code=code,
            verifier=pkce.verifier,
            now=clock.now(),
            oauth_base=fake_oa.base_url,
        )


async def test_a_lease_held_elsewhere_does_not_block_a_valid_token(
    engine: Engine, manager: OATokenManager, fake_oa: FakeZaloOA, clock: FixedClock
) -> None:
    """Another process (maybe dead) holds the refresh lease: the current token is served at
    once, without waiting for the lease and without spending the refresh token."""
    access = store_pair(engine, fake_oa, clock, hours=5)
    with session_scope(engine) as session:
        assert claim_refresh(session, fake_oa.app_id, stored(engine, fake_oa)[2], clock.now(), 60)
    started = asyncio.get_running_loop().time()
    assert await manager.access_token() == access
    assert asyncio.get_running_loop().time() - started < 1.0
    assert fake_oa.refreshes == []
