"""Outbox throughput with 1, 2 and 4 worker processes on PostgreSQL.

A backlog of M messages over C chats is written to a fresh PostgreSQL database; K real
``papi-bot run --role worker`` processes send it to the fake Bot API server (127.0.0.1, no
rate limit on the server, the bot's own pacing raised far above Telegram's). Printed per K:
the time from the workers' start to the last message received, messages/s, and the ratio
K workers / 1 worker, with this machine's core count. Every message must arrive exactly once.

    PAPI_BOT_TEST_POSTGRES_URL=$(scripts/postgres-for-tests.sh) \\
        .venv/bin/python benchmarks/bench_scale.py [--messages 3000] [--chats 300] [--tiny]

``--tiny`` (20 messages over 4 chats, 1 and 2 workers) is what CI runs, so the script cannot rot
(``tests/e2e/test_benchmarks_tiny.py``); its figures mean nothing.

On a machine with few cores (2 here) the workers, PostgreSQL and the fake server share
them: the ratio measures that machine, not the design. Asserts nothing beyond delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.queue import insert_outbox_rows  # noqa: E402
from storage.taxonomy import sync_taxonomy  # noqa: E402
from tests.fakes.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "777001:BENCH-scale-token-not-secret"


def fresh_database(server_url: str) -> str:
    name = f"papi_bench_{secrets.token_hex(4)}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fill(url: str, messages: int, chats: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        sync_taxonomy(session)
        insert_outbox_rows(
            session,
            [
                {"channel": "telegram", "chat_id": str(10_000 + n % chats), "text": f"m{n}"}
                for n in range(messages)
            ],
        )
    engine.dispose()


async def one_run(server_url: str, workers: int, messages: int, chats: int) -> float:
    url = fresh_database(server_url)
    fake = FakeTelegram(TOKEN)
    await fake.start()
    done = asyncio.Event()
    fake.on_sent = lambda _item: done.set() if len(fake.sent) >= messages else None
    processes: list[asyncio.subprocess.Process] = []
    temporary = tempfile.TemporaryDirectory(prefix="papi-bench-scale-")  # gone when stopped
    try:
        fill(url, messages, chats)
        folder = Path(temporary.name)
        config = folder / "config.toml"
        config.write_text(
            f'[app]\ndata_dir = "{folder}"\n\n[web]\nenabled = false\n\n'
            f'[telegram]\napi_base = "{fake.base_url}"\n'
            "global_rate_per_second = 100000\nper_chat_rate_per_second = 100000\n",
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "PAPI_BOT_CONFIG": str(config),
            "PAPI_BOT_DATABASE_URL": url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
        }
        papi_bot = [sys.executable, "-m", "bot"]
        started = time.perf_counter()
        for _ in range(workers):
            processes.append(
                await asyncio.create_subprocess_exec(
                    *papi_bot,
                    "run",
                    "--role",
                    "worker",
                    cwd=ROOT,
                    env=env,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1.0)  # anything sent twice would show up now
        counts = Counter(item.text for item in fake.sent)
        twice = sum(1 for count in counts.values() if count > 1)
        if len(counts) != messages or twice:
            raise SystemExit(f"delivery broken: {len(counts)} distinct, {twice} twice")
        return elapsed
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        await fake.stop()
        drop_database(server_url, url)
        temporary.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--tiny", action="store_true", help="20 messages, 1 and 2 workers (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.messages, args.chats, args.workers = 20, 4, [1, 2]
    server_url = os.environ.get("PAPI_BOT_TEST_POSTGRES_URL", "")
    if not server_url:
        raise SystemExit("set PAPI_BOT_TEST_POSTGRES_URL (scripts/postgres-for-tests.sh)")
    print(f"{args.messages} messages over {args.chats} chats; {os.cpu_count()} CPU cores")
    rates: dict[int, float] = {}
    for workers in args.workers:
        elapsed = await one_run(server_url, workers, args.messages, args.chats)
        rates[workers] = args.messages / elapsed
        rate = rates[workers]
        print(f"{workers} worker(s): {elapsed:6.2f} s (start-up included), {rate:7.1f} msg/s")
    if 1 in rates:
        for workers, many in rates.items():
            if workers != 1:
                print(f"ratio {workers} workers / 1 worker: {many / rates[1]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
