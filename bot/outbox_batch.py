"""Group commit for the outbox worker's per-message writes (claims, "sent" outcomes).

Every message costs the worker a claim before its HTTP call and an outcome after it, each
a committed transaction on the worker's one database thread. When many chats are being
served at once, the calls that arrive while that thread is busy wait for it anyway; here
they wait *together* and go as one job: one statement and one commit for all of them. An
idle worker loses nothing — the first call starts a job at once. Each caller still awaits
its own result, so a chat's next message is claimed only after its previous one's outcome
is committed (at most one message per chat in doubt after a crash, as before).

A job that must be undone when nobody waits for its answer any more (a claim: nobody will
send on it, and its chat would wait for the lease to end) is given ``orphaned``: an item
whose caller gave up (its drain was cancelled, or failed) before the job ran is left out,
and one answered after its caller left goes to ``orphaned`` with its result. Without it,
every item is written whoever still waits (a "sent" outcome: the message went out).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger("bot.outbox")

I = TypeVar("I")  # noqa: E741 (an item)
R = TypeVar("R")

Submit = Callable[[Callable[[list[I]], list[R]], list[I]], Awaitable[list[R]]]


class GroupCommit(Generic[I, R]):
    """``await batcher(item)`` → ``job([item, …])``'s answer for that item, the job run by
    ``submit`` (on the database thread) for every item that arrived meanwhile."""

    def __init__(
        self,
        job: Callable[[list[I]], list[R]],
        submit: Submit[I, R],
        orphaned: Callable[[list[tuple[I, R]]], Awaitable[None]] | None = None,
    ) -> None:
        self._job = job
        self._submit = submit
        self._orphaned = orphaned
        self._waiting: list[tuple[I, asyncio.Future[R]]] = []
        self._pump: asyncio.Task[None] | None = None

    async def __call__(self, item: I) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # the callers of this same moment join the batch
            batch, self._waiting = self._waiting, []
            try:
                await self._answer(batch)
            except BaseException as exc:  # cancelled (the worker stops): no caller hangs
                for _, future in batch:
                    _settle(future, exc)
                raise

    async def _answer(self, batch: Sequence[tuple[I, asyncio.Future[R]]]) -> None:
        if self._orphaned is not None:  # nobody waits: not worth doing only to undo it
            batch = [(item, future) for item, future in batch if not future.done()]
            if not batch:
                return
        try:
            results = await self._submit(self._job, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) > 1:  # one bad item must not fail the others: each alone
                log.warning("outbox: a batch of %d failed (%s); one by one", len(batch), exc)
                for single in batch:
                    await self._answer([single])
                return
            _settle(batch[0][1], exc)
            return
        orphans = []
        for (item, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller was cancelled meanwhile
                orphans.append((item, result))
            else:
                future.set_result(result)
        if orphans and self._orphaned is not None:
            try:
                await self._orphaned(orphans)
            except Exception:
                log.exception("outbox: %d answer(s) nobody waited for not undone", len(orphans))


def _settle(future: asyncio.Future[R], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
