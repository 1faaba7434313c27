"""The OA's access token, kept fresh with the single-use, rotating refresh token.

The pair lives in the database (``storage.oa_tokens``), never only in memory:
1. ``claim_refresh`` takes a short lease on the stored generation, so exactly one process
   spends the refresh token;
2. the refresh call;
3. ``store_refreshed`` commits the new pair — and only then is the new access token returned
   to anyone. A crash before step 3 leaves the old pair intact: its access token still works
   until it expires (the refresh runs ``refresh_ahead_seconds`` early, hours by default), and
   the admin is asked to re-authorise if Zalo refuses the old refresh token. A crash after
   step 3 loses nothing.

Step 3 comes right after the answer, before anything else (no log line, no other call), and a
transient database error there (SQLite's "database is locked") is retried for a few seconds:
Zalo has already spent the old refresh token, so the answer in hand is the only live pair.
If it still cannot be stored, the error is logged (never the tokens) and the admin must run
``papi-bot zalo-oa authorize`` before the current access token expires.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.channels.zalo_oa.errors import (
    OAError,
    OAReauthorizationNeeded,
    OAServerError,
)
from bot.channels.zalo_oa.oauth import DEFAULT_OAUTH_BASE, IssuedPair, refresh_pair
from kernel.clock import Clock, SystemClock
from storage.db import session_scope
from storage.oa_tokens import (
    TokenPair,
    claim_refresh,
    get_tokens,
    release_claim,
    store_refreshed,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
WAIT_STEP_SECONDS = 0.2
STORE_ATTEMPTS = 8  # with STORE_RETRY_SECONDS doubling: about 25 s in all, inside the lease
STORE_RETRY_SECONDS = 0.1


class OATokenManager:
    """``await access_token()`` gives a token that was stored before it was handed out."""

    def __init__(
        self,
        *,
        engine: Engine,
        http: httpx.AsyncClient,
        app_id: str,
        app_secret: str,
        oauth_base: str = DEFAULT_OAUTH_BASE,
        refresh_ahead_seconds: int = 6 * 3600,
        lease_seconds: int = 60,
        clock: Clock | None = None,
    ) -> None:
        if not app_id or not app_secret:
            raise ValueError("the OA needs ZALO_OA_APP_ID and ZALO_OA_APP_SECRET")
        self._engine = engine
        self._http = http
        self.app_id = app_id
        self._app_secret = app_secret
        self._oauth_base = oauth_base
        self._ahead = timedelta(seconds=refresh_ahead_seconds)
        self._lease = lease_seconds
        self._clock = clock or SystemClock()
        self._lock = asyncio.Lock()  # one refresh per process; the lease covers the others

    async def _db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self._engine) as session:
                return work(session)

        return await asyncio.to_thread(run)

    async def stored(self) -> TokenPair | None:
        return await self._db(lambda session: get_tokens(session, self.app_id))

    def _usable(self, pair: TokenPair) -> bool:
        return bool(pair.access_token) and pair.access_expires_at > self._clock.now()

    async def access_token(self) -> str:
        """A valid access token, refreshing ahead of expiry; raises ``OAReauthorizationNeeded``
        only when no stored token works any more."""
        pair = await self.stored()
        if pair is None:
            raise OAReauthorizationNeeded(
                "no OA token stored: set ZALO_OA_REFRESH_TOKEN or run papi-bot zalo-oa authorize"
            )
        fresh = pair.access_expires_at - self._clock.now() > self._ahead
        if (fresh or pair.needs_reauthorization) and self._usable(pair):
            return pair.access_token
        if pair.needs_reauthorization and not self._usable(pair):
            raise OAReauthorizationNeeded(
                "the OA must be authorised again (papi-bot zalo-oa authorize)"
            )
        try:  # while the old token works, never wait for another process's refresh
            pair = await self.refresh(pair.generation, wait=not self._usable(pair))
        except OAError as exc:
            if self._usable(pair):  # the old token still works: keep serving, the admin is told
                log.warning("zalo oa: refresh failed (%s); the current token is still valid", exc)
                return pair.access_token
            raise
        return pair.access_token

    async def refresh(self, generation: int | None = None, *, wait: bool = True) -> TokenPair:
        """Replace the stored pair (of ``generation``, if given) by a refreshed one. If another
        process holds the refresh lease: wait for its pair, or (``wait=False``) return the
        current one at once."""
        async with self._lock:
            pair = await self.stored()
            if pair is None:
                raise OAReauthorizationNeeded("no OA token stored")
            if generation is not None and pair.generation != generation:
                return pair  # someone refreshed meanwhile: that pair is the one to use
            now = self._clock.now()
            claimed = await self._db(
                lambda s: claim_refresh(s, self.app_id, pair.generation, now, self._lease)
            )
            if not claimed:
                return await self._wait_for_other(pair.generation) if wait else pair
            return await self._spend(pair)

    async def _spend(self, pair: TokenPair) -> TokenPair:
        try:
            issued = await refresh_pair(
                self._http,
                app_id=self.app_id,
                app_secret=self._app_secret,
                refresh_token=pair.refresh_token,
                now=self._clock.now(),
                oauth_base=self._oauth_base,
            )
        except OAError as exc:
            reauthorize = isinstance(exc, OAReauthorizationNeeded)
            reason = str(exc)
            now = self._clock.now()
            await self._db(
                lambda s: release_claim(
                    s,
                    self.app_id,
                    pair.generation,
                    now,
                    error=reason,
                    needs_reauthorization=reauthorize,
                )
            )
            if reauthorize:
                log.error("zalo oa: the refresh token was refused; the admin must re-authorise")
            raise
        stored = await self._store(pair.generation, issued)
        if not stored:  # our lease ran out and another process stored a pair: ours is lost
            raise OAServerError("the OA token pair changed during the refresh")
        log.info("zalo oa: access token refreshed, valid until %s", issued.access_expires_at)
        fresh = await self.stored()
        assert fresh is not None
        return fresh

    async def _store(self, generation: int, issued: IssuedPair) -> bool:
        """Commit the pair Zalo just issued, retrying a transient database error."""
        delay = STORE_RETRY_SECONDS
        for attempt in range(1, STORE_ATTEMPTS + 1):
            now = self._clock.now()
            try:
                return await self._db(
                    lambda s, now=now: store_refreshed(  # type: ignore[misc]
                        s,
                        self.app_id,
                        generation,
                        access_token=issued.access_token,
                        refresh_token=issued.refresh_token,
                        access_expires_at=issued.access_expires_at,
                        now=now,
                    )
                )
            except OperationalError as exc:
                if attempt == STORE_ATTEMPTS:
                    log.error(
                        "zalo oa: the refreshed token pair could not be stored (%s); Zalo has "
                        "spent the old refresh token: run papi-bot zalo-oa authorize",
                        type(exc.orig).__name__ if exc.orig is not None else "database error",
                    )
                    raise
                log.warning("zalo oa: storing the refreshed pair failed, retrying")
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def _wait_for_other(self, generation: int) -> TokenPair:
        """Another process holds the lease: wait (up to the lease) for its new pair."""
        for _ in range(int(self._lease / WAIT_STEP_SECONDS) + 1):
            pair = await self.stored()
            if pair is not None and pair.generation != generation:
                return pair
            await asyncio.sleep(WAIT_STEP_SECONDS)
        raise OAServerError("another process is refreshing the OA token")
