"""The database threads: on SQLite the pipeline and the outbox share one (no busy-handler
sleeps); results reach the event loop in batches, errors and cancellations as an executor
gives them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.dbthreads import DatabaseThreads, database_threads
from storage.db import make_engine


def test_sqlite_queues_every_write_of_the_hot_path_on_one_thread(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        engine = make_engine("sqlite://")
    threads = database_threads(engine)

    async def names() -> set[str]:
        jobs = [threads.pipeline.run(lambda: threading.current_thread().name) for _ in range(5)]
        jobs += [threads.outbox.run(lambda: threading.current_thread().name) for _ in range(5)]
        return set(await asyncio.gather(*jobs))

    try:
        assert threads.pipeline is threads.outbox
        found = asyncio.run(names())
        assert len(found) == 1 and found != {threading.current_thread().name}
    finally:
        threads.close(wait=True)


def test_postgresql_gives_the_pipeline_threads_of_its_own() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    threads = database_threads(engine)
    try:
        assert threads.pipeline is not threads.outbox
    finally:
        threads.close()


@pytest.fixture
def threads() -> Iterator[DatabaseThreads]:
    one = DatabaseThreads(1, "test-db")
    yield one
    one.close(wait=True)


def test_jobs_finished_together_wake_the_loop_once(threads: DatabaseThreads) -> None:
    """Ten jobs that finish while the loop is busy reach it with one wake-up, each with its
    own result (``run_in_executor`` wakes the loop once per job)."""
    threads = DatabaseThreads(1, "test-db")
    all_done = threading.Event()
    wakeups: list[object] = []

    def square(i: int) -> int:
        if i == 9:
            all_done.set()
        return i * i

    async def scenario() -> list[int]:
        loop = asyncio.get_running_loop()
        original = loop.call_soon_threadsafe

        def counting(callback: Callable[..., object], *args: object) -> asyncio.Handle:
            wakeups.append(callback)
            return original(callback, *args)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign,assignment]
        jobs = [asyncio.ensure_future(threads.run(square, i)) for i in range(10)]
        await asyncio.sleep(0)  # every job queued
        assert all_done.wait(5)  # the loop is blocked here while the thread runs them all
        return list(await asyncio.gather(*jobs))

    assert asyncio.run(scenario()) == [i * i for i in range(10)]
    assert len(wakeups) == 1


def test_a_job_that_raises_raises_in_the_awaiting_task(threads: DatabaseThreads) -> None:

    def broken() -> None:
        raise LookupError("no such row")

    async def scenario() -> None:
        with pytest.raises(LookupError, match="no such row"):
            await threads.run(broken)
        assert await threads.run(lambda: 42) == 42  # the thread lives on

    asyncio.run(scenario())


def test_a_job_cancelled_before_it_starts_never_runs(threads: DatabaseThreads) -> None:
    gate = threading.Event()
    ran: list[str] = []

    async def scenario() -> None:
        busy = asyncio.ensure_future(threads.run(gate.wait))
        waiting = asyncio.ensure_future(threads.run(ran.append, "late"))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        gate.set()
        await busy
        await threads.run(ran.append, "after")

    asyncio.run(scenario())
    assert ran == ["after"]


def test_closing_cancels_the_queued_jobs_and_refuses_new_ones(threads: DatabaseThreads) -> None:
    gate = threading.Event()
    ran: list[str] = []

    async def scenario() -> None:
        busy = asyncio.ensure_future(threads.run(gate.wait))
        queued = asyncio.ensure_future(threads.run(ran.append, "queued"))
        await asyncio.sleep(0)
        threads.close()
        gate.set()
        assert await busy is True  # the job running finishes
        with pytest.raises(asyncio.CancelledError):
            await queued
        with pytest.raises(RuntimeError, match="closed"):
            await threads.run(ran.append, "new")

    asyncio.run(scenario())
    assert ran == []
