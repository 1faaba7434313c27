"""Which threads run the database work of the bot's hot path, and how the event loop hears
back from them.

SQLite takes one write transaction at a time. Two threads of one process writing at once
(the pipeline applying a reply while the outbox worker claims a message) do not share it:
the second gets "busy" and SQLite's busy handler *sleeps* (1, 2, 5, 10 … ms) however soon
the first commits, and under a burst those sleeps set the pace. On SQLite the pipeline and
the outbox worker therefore share ONE database thread: its queue serialises them without a
sleep, and a claim that waited behind a few replies goes with the other claims of that
moment (``bot.outbox_batch``). PostgreSQL has row locks and many writers: the pipeline gets
a few threads of its own, the outbox its own one (its writes are already batched).

``DatabaseThreads.run`` answers the event loop in batches: asyncio's ``run_in_executor``
wakes the loop once per finished job (a future chained across threads and a write to the
loop's self-pipe each time), and every status reply is three jobs (apply, claim, "sent").
Here the jobs that finish before the loop next runs are delivered by one wake-up.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Engine

PIPELINE_THREADS_SHARED_DATABASE = 4  # PostgreSQL: replies of several chats applied at once

T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


class DatabaseLost(RuntimeError):
    """The place running a job went away before it answered (the database process died);
    the job may or may not have committed, and the next job runs in a new one."""


class Database(Protocol):
    """Where the hot path's database work runs: these threads, or the database process
    (``bot.dbprocess``)."""

    async def run(self, func: Callable[..., T], *args: Any) -> T: ...

    def close(self, *, wait: bool = False) -> None: ...


class DatabaseThreads:
    """``workers`` threads taking jobs from one queue; ``run`` awaits a job's result."""

    def __init__(self, workers: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._done: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}  # awaiting delivery
        self._closed = False
        # Daemon threads: a process that never closes them still exits (a job cut short is
        # a transaction never committed, which the database rolls back). Started by the
        # first job, as an executor starts its threads.
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}_{index}", daemon=True)
            for index in range(workers)
        ]
        self._started = False

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in one of the threads. Cancelled before a thread took it: it does
        not run. Cancelled while it runs: it finishes, its result is dropped."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:  # never queued behind the threads' stop markers (``close``)
            if self._closed:
                raise RuntimeError("database threads closed")
            self._jobs.put((loop, future, func, args))
        if not self._started:
            self._start()
        return await future

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for thread in self._threads:
            thread.start()

    def close(self, *, wait: bool = False) -> None:
        """No new jobs; the threads end after the one each is running (``wait``: until
        they have). Jobs still queued are cancelled (their awaiting tasks get
        CancelledError)."""
        with self._lock:
            self._closed = True
            for _thread in self._threads:
                self._jobs.put(None)
        if wait and self._started:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            loop, future, func, args = job
            if self._closed:
                self._deliver(loop, (future, None, asyncio.CancelledError()))
                continue
            if future.cancelled():  # its task gave up waiting before the job began
                continue
            try:
                outcome: _Outcome = (future, func(*args), None)
            except BaseException as exc:  # handed to the awaiting task, as an executor does
                outcome = (future, None, exc)
            self._deliver(loop, outcome)

    def _deliver(self, loop: asyncio.AbstractEventLoop, outcome: _Outcome) -> None:
        """Queue the outcome for the loop; wake the loop only if no wake-up is on its way."""
        with self._lock:
            waiting = self._done.get(loop)
            if waiting is not None:
                waiting.append(outcome)
                return
            self._done[loop] = [outcome]
        try:
            loop.call_soon_threadsafe(self._settle, loop)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            with self._lock:
                self._done.pop(loop, None)

    def _settle(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: every outcome finished since the wake-up was sent."""
        with self._lock:
            outcomes = self._done.pop(loop, [])
        for future, result, error in outcomes:
            if future.cancelled():
                continue
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            elif error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)


class HotPathDatabase:
    """Where the pipeline's and the outbox worker's database work runs (the same place on
    SQLite)."""

    def __init__(self, pipeline: Database, outbox: Database) -> None:
        self.pipeline = pipeline
        self.outbox = outbox

    def close(self, *, wait: bool = False) -> None:
        for place in {id(self.pipeline): self.pipeline, id(self.outbox): self.outbox}.values():
            place.close(wait=wait)  # one on SQLite


def database_threads(engine: Engine) -> HotPathDatabase:
    if engine.dialect.name == "sqlite":
        one = DatabaseThreads(1, "sqlite")
        return HotPathDatabase(pipeline=one, outbox=one)
    return HotPathDatabase(
        pipeline=DatabaseThreads(PIPELINE_THREADS_SHARED_DATABASE, "pipeline-db"),
        outbox=DatabaseThreads(1, "outbox-db"),
    )
