"""The refreshed OA pair must reach the database: Zalo has already spent the old refresh
token, so a transient database error while storing (SQLite "database is locked" while
another writer holds the lock) is retried instead of dropping the only live pair."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.channels.zalo_oa import tokens
from bot.channels.zalo_oa.tokens import OATokenManager
from kernel.clock import FixedClock
from storage.db import session_scope
from storage.oa_tokens import get_tokens, store_refreshed
from tests.channels.zalo.conftest import store_pair
from tests.fakes.fake_zalo_oa import FakeZaloOA


async def test_a_locked_database_does_not_lose_the_refreshed_pair(
    engine: Engine,
    manager: OATokenManager,
    fake_oa: FakeZaloOA,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store_pair(engine, fake_oa, clock, hours=5)  # inside the refresh margin
    real = store_refreshed
    failures = [OperationalError("UPDATE oatoken", {}, Exception("database is locked"))] * 2

    def flaky(*args: Any, **kwargs: Any) -> bool:
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(tokens, "store_refreshed", flaky)
    monkeypatch.setattr(tokens, "STORE_RETRY_SECONDS", 0.01)
    access = await manager.access_token()
    with session_scope(engine) as session:
        pair = get_tokens(session, fake_oa.app_id)
    assert pair is not None and failures == []
    assert (pair.access_token, pair.refresh_token) == (access, fake_oa.current_refresh)
    assert len(fake_oa.refreshes) == 1
