"""Pacing of the outbox: a channel's global rate shared by priority, replies first.

aiolimiter's bucket serves waiters in arrival order, so a reply queued behind thousands of
reminders would wait for all of them. ``PriorityLimiter`` keeps the waiters in a heap
(highest priority first, then arrival) and lets one through each time the bucket has room.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

from aiolimiter import AsyncLimiter


def leaky_bucket(rate_per_second: float) -> AsyncLimiter:
    """A leaky bucket for ``rate_per_second`` whose bursts last a tenth of a second.

    The long-run rate is the same as a one-second bucket's, but sends are spread evenly: a
    platform counting over its own window never sees the worker's burst plus network jitter
    at once (that is what produced the rare 429 at exactly the limit).
    """
    if rate_per_second >= 10:
        return AsyncLimiter(rate_per_second / 10, 0.1)
    return AsyncLimiter(1, 1.0 / rate_per_second)  # one at a time, evenly spaced


class PriorityLimiter:
    """``await acquire(priority)`` returns when the rate allows; higher priority first."""

    def __init__(self, rate_per_second: float) -> None:
        self._bucket = leaky_bucket(rate_per_second)
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None

    async def acquire(self, priority: int = 0) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-priority, next(self._order), future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run())
        await future

    async def _run(self) -> None:
        while True:
            while self._waiting and self._waiting[0][2].done():
                heapq.heappop(self._waiting)  # cancelled meanwhile: costs no turn
            if not self._waiting:
                return
            await self._bucket.acquire()
            while self._waiting:
                _priority, _order, future = heapq.heappop(self._waiting)
                if not future.done():  # a cancelled waiter gives its turn to the next
                    future.set_result(None)
                    break

    def close(self) -> None:
        """Stop handing out turns (the worker stops)."""
        if self._pump is not None:
            self._pump.cancel()
