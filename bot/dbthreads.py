"""Which threads run the database work of the bot's hot path.

SQLite takes one write transaction at a time. Two threads of one process writing at once
(the pipeline applying a reply while the outbox worker claims a message) do not share it:
the second gets "busy" and SQLite's busy handler *sleeps* (1, 2, 5, 10 … ms) however soon
the first commits, and under a burst those sleeps set the pace. On SQLite the pipeline and
the outbox worker therefore share ONE database thread: its queue serialises them without a
sleep, and a claim that waited behind a few replies goes with the other claims of that
moment (``bot.outbox_batch``). PostgreSQL has row locks and many writers: the pipeline gets
a few threads of its own, the outbox its own one (its writes are already batched).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.engine import Engine

PIPELINE_THREADS_SHARED_DATABASE = 4  # PostgreSQL: replies of several chats applied at once


@dataclass(frozen=True)
class DatabaseThreads:
    pipeline: ThreadPoolExecutor
    outbox: ThreadPoolExecutor

    def close(self) -> None:
        for executor in {self.pipeline, self.outbox}:  # one on SQLite
            executor.shutdown(wait=False, cancel_futures=True)


def database_threads(engine: Engine) -> DatabaseThreads:
    if engine.dialect.name == "sqlite":
        one = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        return DatabaseThreads(pipeline=one, outbox=one)
    return DatabaseThreads(
        pipeline=ThreadPoolExecutor(PIPELINE_THREADS_SHARED_DATABASE, "pipeline-db"),
        outbox=ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db"),
    )
