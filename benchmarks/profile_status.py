"""Profile status replies through ``bot.pipeline.apply_inbound`` directly (no worker thread).

Builds the demo database in a temporary folder, links one demo official's chat, then applies
``N`` status replies ("<task> 50%" alternating with "<task> đang làm") under cProfile and prints
the time per update and the top functions by cumulative and own time.

    .venv/bin/python benchmarks/profile_status.py [--updates 200] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.config import Settings
from bot.demo import demo_people, ensure_demo_data
from bot.pipeline import apply_inbound
from handlers.types import Inbound
from kernel.clock import SystemClock
from storage.db import make_engine, session_scope, upgrade
from storage.models import Assignment, ChannelIdentity, Task
from storage.taxonomy import sync_taxonomy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    settings = Settings()
    now = SystemClock().now()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'demo.db'}")
        upgrade(engine)
        with session_scope(engine) as session:
            sync_taxonomy(session)
            ensure_demo_data(session, settings, now)
        with session_scope(engine) as session:
            people = demo_people(session)
            person, number = None, None
            for official in people:
                row = session.exec(
                    select(Task.id)
                    .join(Assignment, col(Assignment.task_id) == col(Task.id))
                    .where(col(Assignment.unit_id) == official.unit_id)
                ).first()
                if row is not None:
                    person, number = official, row
                    break
            assert person is not None and person.id is not None
            session.add(
                ChannelIdentity(
                    official_id=person.id,
                    channel="telegram",
                    external_user_id="u1",
                    chat_id="u1",
                    linked_at=now,
                )
            )
        texts = [f"#{number} 50%", f"#{number} đang làm"]

        def one(i: int) -> None:
            moment = now + timedelta(seconds=i)
            inbound = Inbound(
                channel="telegram",
                external_user_id="u1",
                chat_id="u1",
                update_key=str(i),
                received_at=moment,
                message_id=str(i),
                text=texts[i % 2],
            )
            apply_inbound(engine, inbound, settings, moment)

        for i in range(10):  # warm up: first queries compile, catalogs load
            one(i)
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        for i in range(10, 10 + args.updates):
            one(i)
        profile.disable()
        wall = time.perf_counter() - start
        print(
            f"{args.updates} status replies: {1000 * wall / args.updates:.2f} ms per update "
            "(under cProfile)"
        )
        start = time.perf_counter()
        for i in range(10_000, 10_000 + args.updates):
            one(i)
        plain = time.perf_counter() - start
        print(f"without the profiler: {1000 * plain / args.updates:.2f} ms per update")
        stats = pstats.Stats(profile).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
