"""SQLite: the pipeline and the outbox share one database thread (no busy-handler sleeps)."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from bot.dbthreads import database_threads
from storage.db import make_engine


def test_sqlite_queues_every_write_of_the_hot_path_on_one_thread(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        engine = make_engine("sqlite://")
    threads = database_threads(engine)
    try:
        assert threads.pipeline is threads.outbox
        names = {
            threads.pipeline.submit(lambda: threading.current_thread().name).result()
            for _ in range(5)
        }
        assert len(names) == 1
    finally:
        threads.close()


def test_postgresql_gives_the_pipeline_threads_of_its_own() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    threads = database_threads(engine)
    try:
        assert threads.pipeline is not threads.outbox
    finally:
        threads.close()
