"""Status replies through the fake Bot API server: papi-bot vs. a bare aiogram echo bot.

M officials (linked with invite codes on demo data) each send N/M quick status replies
("<task> 40%"), one after another: the next only once the bot's answer arrived (closed loop,
M at a time). Both bots run as real processes that long-poll the same kind of fake server
(127.0.0.1, no rate limits, so the bots' own ceilings show). Printed per bot: updates/s,
p50/p99 reply latency (update injected → answer received by the server), the process's
peak memory (VmHWM), "ready": seconds from starting the process to its first getUpdates
(``papi-bot run`` connected and polling) with the CPU seconds the process had used by then
("(cpu s)", steadier on a shared machine), and "answer": seconds from starting the process to
its first answer (to a message that was waiting when it started). The echo bot is
benchmarks/echo_bot.py, a file importing aiogram and nothing else: its "ready" is the floor
of any aiogram bot on the machine.

    .venv/bin/python benchmarks/bench_telegram.py [--messages 1000] [--officials 20]

With BENCH_PROFILE=FILE the bot runs under cProfile (main thread only) and writes FILE; with
BENCH_WRAP="CMD ARGS" the bot's command line is prefixed with it, e.g. a sampling profiler that
sees every thread: BENCH_WRAP="py-spy record --nonblocking -f raw -o bot.txt --" (the bot
then gets SIGINT, so the profiler writes its file). "cpu ms/upd" is the bot process's CPU time
(all threads, /proc) over the measured updates: on a shared machine it is steadier than
updates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sqlmodel import select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.demo import ensure_demo_data  # noqa: E402
from kernel.clock import VN_TZ  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.invites import create_invite  # noqa: E402
from storage.models import Assignment, AssignmentOfficial, Official, Unit  # noqa: E402
from storage.taxonomy import sync_taxonomy  # noqa: E402
from tests.fakes.fake_telegram import FakeTelegram, SentMessage  # noqa: E402

TOKEN = "777000:BENCH-token-not-secret"
FIRST_USER = 600_000


def prepare(url: str, officials: int) -> list[tuple[str, list[int]]]:
    """Demo data plus ``officials`` extra officials of one commune, each given 5 tasks;
    their (invite code, assignment ids)."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(VN_TZ)
    people: list[tuple[str, list[int]]] = []
    with session_scope(engine) as session:
        sync_taxonomy(session)
        ensure_demo_data(session, Settings(), now)
        commune = session.exec(select(Unit).where(Unit.level == "commune")).first()
        assert commune is not None and commune.id is not None
        assignment_ids = [
            a
            for a in session.exec(
                select(Assignment.id).where(Assignment.unit_id == commune.id)
            ).all()
            if a is not None
        ]
        for n in range(officials):
            official = Official(
                name=f"Cán bộ {n + 1}", phone=f"+8497{n:07d}", unit_id=commune.id, role="official"
            )
            session.add(official)
            session.flush()
            assert official.id is not None
            mine = [assignment_ids[(n + k) % len(assignment_ids)] for k in range(5)]
            for assignment_id in mine:
                session.add(
                    AssignmentOfficial(assignment_id=assignment_id, official_id=official.id)
                )
            people.append((create_invite(session, official.id, now, 14).code, mine))
    engine.dispose()
    return people


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Latencies:
    """Matches each answer to the oldest unanswered message of its chat."""

    def __init__(self) -> None:
        self.waiting: dict[str, deque[float]] = defaultdict(deque)
        self.events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.samples: list[float] = []
        self.recording = False
        self.first_answer: float | None = None  # perf_counter of the first answer

    def sent(self, item: SentMessage) -> None:
        if self.first_answer is None:
            self.first_answer = time.perf_counter()
        queue = self.waiting[item.chat_id]
        if queue:
            started = queue.popleft()
            if self.recording:
                self.samples.append(time.perf_counter() - started)
        self.events[item.chat_id].set()


async def converse(
    fake: FakeTelegram, latencies: Latencies, user: int, texts: Sequence[str]
) -> None:
    chat = str(user)
    for text in texts:
        event = latencies.events[chat]
        event.clear()
        latencies.waiting[chat].append(time.perf_counter())
        await fake.inject_message(user, text)
        await asyncio.wait_for(event.wait(), 60)


async def measure(
    command: list[str],
    env: dict[str, str],
    fake: FakeTelegram,
    warmup: dict[int, list[str]],
    work: dict[int, list[str]],
) -> dict[str, float | None]:
    latencies = Latencies()
    fake.on_sent = latencies.sent
    spawned = time.perf_counter()
    ready: list[float] = []  # when the bot first polled: started and connected
    ready_cpu: list[float] = []  # the bot's CPU seconds by then (steadier than wall time)
    pids: list[int] = []
    polls = fake._m_getUpdates

    async def first_poll(params: dict[str, Any]) -> web.Response:
        if not ready:
            ready.append(time.perf_counter() - spawned)
            ready_cpu.extend(cpu_seconds(pid) for pid in pids)
        return await polls(params)

    fake._m_getUpdates = first_poll  # type: ignore[method-assign]
    proc = await asyncio.create_subprocess_exec(
        *command,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    pids.append(proc.pid)
    try:
        await asyncio.gather(*(converse(fake, latencies, u, t) for u, t in warmup.items()))
        latencies.recording = True
        started, cpu = time.perf_counter(), cpu_seconds(proc.pid)
        await asyncio.gather(*(converse(fake, latencies, u, t) for u, t in work.items()))
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(proc.pid) - cpu
        memory = peak_memory_mb(proc.pid)
    finally:
        if os.environ.get("BENCH_WRAP"):
            proc.send_signal(signal.SIGINT)  # a wrapping profiler writes its file on ^C
        else:
            proc.terminate()
        await proc.wait()
    samples = sorted(latencies.samples)
    count = sum(len(t) for t in work.values())
    first = latencies.first_answer
    return {
        "ready s": ready[0] if ready else None,
        "ready cpu s": ready_cpu[0] if ready_cpu else None,
        "answer s": first - spawned if first is not None else None,
        "updates/s": count / elapsed,
        "cpu ms/upd": 1000 * cpu / count,
        "p50 ms": 1000 * statistics.median(samples),
        "p99 ms": 1000 * samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "peak MB": memory,
    }


async def bench(messages: int, officials: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-telegram-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    people = prepare(url, officials)
    per_user = max(1, messages // officials)
    users = {FIRST_USER + n: person for n, person in enumerate(people)}

    results: dict[str, dict[str, float | None]] = {}
    # papi-bot: register (warm-up), then status replies.
    fake = FakeTelegram(TOKEN)
    await fake.start()
    config = tmp / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[telegram]\napi_base = "{fake.base_url}"\n'
        "global_rate_per_second = 100000\nper_chat_rate_per_second = 100000\n",
        encoding="utf-8",
    )
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PAPI_BOT_CONFIG": str(config)}
    warmup = {u: [f"/start {code}"] for u, (code, _ids) in users.items()}
    work = {
        u: [f"{ids[k % len(ids)]} {10 + (k * 7) % 80}%" for k in range(per_user)]
        for u, (_code, ids) in users.items()
    }
    profile = os.environ.get("BENCH_PROFILE")  # a file: cProfile the bot into it
    command = [sys.executable, "-m", "bot", "run"]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "bot", "run"]
    command = shlex.split(os.environ.get("BENCH_WRAP", "")) + command
    results["papi-bot"] = await measure(command, env, fake, warmup, work)
    await fake.stop()

    # The bare aiogram echo bot on a fresh fake server: the framework's own ceiling.
    fake = FakeTelegram(TOKEN)
    await fake.start()
    env = {**os.environ, "BENCH_API_BASE": fake.base_url, "BENCH_TOKEN": TOKEN}
    results["aiogram echo"] = await measure(  # its own file: it imports aiogram and nothing else
        [sys.executable, str(Path(__file__).with_name("echo_bot.py"))],
        env,
        fake,
        {u: ["hi"] for u in users},
        work,
    )
    await fake.stop()

    print(f"{messages} status replies from {officials} officials (closed loop), fake Bot API")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'bot':<14}{'ready s':>8}{'(cpu s)':>8}{'answer s':>9}{'updates/s':>11}{'cpu ms/upd':>12}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'peak MB':>9}"
    )
    for name, row in results.items():
        memory = row["peak MB"]
        print(
            f"{name:<14}{row['ready s'] or float('nan'):>8.2f}"
            f"{row['ready cpu s'] or float('nan'):>8.2f}"
            f"{row['answer s'] or float('nan'):>9.2f}"
            f"{row['updates/s'] or 0:>11.1f}{row['cpu ms/upd'] or 0:>12.2f}"
            f"{row['p50 ms'] or 0:>9.1f}{row['p99 ms'] or 0:>9.1f}{(memory or float('nan')):>9.1f}"
        )
    papi, echo = results["papi-bot"], results["aiogram echo"]
    print(
        f"papi-bot ÷ echo: updates/s {(papi['updates/s'] or 0) / (echo['updates/s'] or 1):.2f}×"
        " (goal ≥ 0.7×), CPU per update "
        f"{(papi['cpu ms/upd'] or 0) / (echo['cpu ms/upd'] or 1):.2f}× (goal ≤ 2×)"
    )


def main(argv: Sequence[str] | None = None, run: Callable[..., object] = asyncio.run) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--officials", type=int, default=20)
    args = parser.parse_args(argv)
    run(bench(args.messages, args.officials))


if __name__ == "__main__":
    main()
