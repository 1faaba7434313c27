"""Sending one outbox row: its claim when its turn comes, the HTTP call(s) on its channel,
the outcome recorded (see ``bot.outbox`` for the guarantee this keeps). The worker decides
which row goes when; ``RowSender.send`` does the rest for one row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from bot import metrics
from bot.channels.base import (
    Capabilities,
    Channel,
    ContactStopped,
    PermanentFailure,
    SendError,
    SendResult,
    TemporaryFailure,
    Throttled,
)
from bot.outbox_batch import GroupCommit
from bot.outbox_pacing import ChatPacer, prepared
from bot.outbox_store import OutboxStore, PendingRow
from kernel.clock import Clock

log = logging.getLogger("bot.outbox")

MAX_CONCURRENT_SENDS = 50
_CLAIMED = 1_000_000  # the pacing priority of a claimed row's later pieces: before any wait

T = TypeVar("T")


class InDb(Protocol):
    """Runs a store method where the worker's database work runs (``bot.dbthreads``)."""

    async def __call__(self, func: Callable[..., T], /, *args: Any) -> T: ...


class _NotClaimed:
    """``send``'s answer when another worker holds the row (or it changed meanwhile)."""


NOT_CLAIMED = _NotClaimed()


class ClaimError(Exception):
    """The database failed while claiming: nothing is recorded for a row not this worker's."""


class RowSender:
    """Claims, sends and records rows for one worker: its channels, their pacing, its
    store. Claims and "sent" outcomes of the same moment share one transaction (group
    commit, ``bot.outbox_batch``)."""

    def __init__(
        self,
        store: OutboxStore,
        channels: Mapping[str, Channel],
        caps: Mapping[str, Capabilities | None],
        pacer: ChatPacer,
        clock: Clock,
        in_db: InDb,
        stopping: Callable[[], bool],
        max_concurrent_sends: int = MAX_CONCURRENT_SENDS,
    ) -> None:
        self._store = store
        self._channels = channels
        self._caps = caps
        self._pacer = pacer
        self._clock = clock
        self._db = in_db
        self._stopping = stopping  # the worker stops: no new claim
        self._sends = asyncio.Semaphore(max_concurrent_sends)
        self._claims = GroupCommit(store.claim_many, in_db, self._unclaim)
        self._sent = GroupCommit(store.record_sent_many, in_db)

    async def send(self, row: PendingRow, priority: int = 0) -> datetime | _NotClaimed | None:
        """Claim ``row`` when its turn comes, send it and record the outcome: when the chat
        may go on (None: at once), or ``NOT_CLAIMED`` when another worker has it."""
        started = time.perf_counter()
        try:
            result = await self._send_pieces(row, priority)
            if result is None:
                return NOT_CLAIMED
        except ClaimError:
            raise  # the database, not the channel: nothing to record for a row not ours
        except Throttled as exc:
            metrics.throttled(row.channel)
            return await self._db(self._store.record_throttled, row, exc.retry_after)
        except ContactStopped as exc:
            moved = await self._db(self._store.record_unreachable, row, str(exc))
            # Rows moved to another channel are due now: drain again at once. This chat's
            # later rows went with them (or are unreachable): it is held.
            return self._clock.now() if moved else None
        except PermanentFailure as exc:
            await self._db(self._store.record_failed, row, f"permanent: {exc}")
            return None
        except TemporaryFailure as exc:
            return await self._db(self._store.record_retry, row, f"temporary: {exc}")
        except SendError as exc:
            return await self._db(self._store.record_retry, row, f"error: {exc}")
        except Exception as exc:  # an adapter bug must not stop the worker
            log.exception("outbox: channel %s raised on message %d", row.channel, row.id)
            return await self._db(self._store.record_retry, row, f"bug: {type(exc).__name__}")
        metrics.message_sent(row.channel, time.perf_counter() - started)
        await self._sent((row, result))
        return None

    async def _send_pieces(self, row: PendingRow, priority: int) -> SendResult | None:
        """The row as the channel carries it (one or more messages); the last one's id, or
        None when it could not be claimed. The claim is taken when the first piece's turn
        has come (paced, a send slot held): its lease covers a send, never the wait for one
        behind a backlog; a row its writer claimed for this worker (an answer first in its
        chat, ``storage.queue.first_in_chats``) is sent on that claim. A claimed row's later
        pieces go before every other wait."""
        channel = self._channels[row.channel]
        result: SendResult | None = None
        for index, message in enumerate(prepared(row.message, self._caps.get(row.channel))):
            # Pacing waits outside the semaphore: a chat waiting for its next second must not
            # hold one of the slots that bound the HTTP calls in flight.
            await self._pacer.pace(row.channel, row.chat_id, priority if index == 0 else _CLAIMED)
            async with self._sends:
                if index == 0 and self._stopping():
                    return None  # a row its writer claimed: the worker lets the claim go
                if index == 0 and not row.claimed and not await self._claim(row):
                    return None
                self._pacer.mark_send(row.channel, row.chat_id)  # the pause counts from here
                result = await channel.send(message)
        assert result is not None  # prepared() returns at least one message
        return result

    async def _claim(self, row: PendingRow) -> bool:
        try:
            return await self._claims(row)
        except Exception as exc:
            raise ClaimError("outbox: a claim failed") from exc

    async def _unclaim(self, answered: list[tuple[PendingRow, bool]]) -> None:
        """Claims taken for chats whose drain gave up meanwhile (it was stopped, or the
        database failed under it): nobody sends on them, so they are due again at once."""
        taken = [row for row, claimed in answered if claimed]
        if taken:
            released = await self._db(self._store.release_many, taken)
            log.info("outbox: %d claim(s) nobody sends on released", released)
