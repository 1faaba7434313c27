"""Status replies through the fake Bot API server: papi-bot vs. the durable floor and a bare
aiogram echo bot.

M officials (linked with invite codes on demo data) each send N/M quick status replies
("<task> 40%"), one after another: the next only once the bot's answer arrived (closed loop,
M at a time). Both bots run as real processes that long-poll the same kind of fake server
(127.0.0.1, no rate limits, so the bots' own ceilings show). Printed per bot: updates/s,
p50/p99 reply latency (update injected → answer received by the server), the process's peak
memory (VmHWM, with its database process's added), "ready": seconds from starting the
process to its first getUpdates (``papi-bot run`` connected and polling) with the CPU
seconds the process had used by then ("(cpu s)", steadier on a shared machine), and
"answer": seconds from starting the process to its first answer (to a message that was
waiting when it started). The echo bot is benchmarks/echo_bot.py, a file importing aiogram
and nothing else: its "ready" is the floor of any aiogram bot on the machine. The "durable
floor" is benchmarks/floor_bot.py (aiogram and the standard library): the cheapest bot that
keeps papi-bot's durability contract, the same SQL statements and commits per update in bare
sqlite3 on one database thread, without the ORM or the conversation. papi-bot ÷ floor is
what the ORM and the conversation cost; floor ÷ echo (printed under the table) is what
durability itself costs in Python.

    .venv/bin/python benchmarks/bench_telegram.py [--messages 1000] [--officials 20]

With BENCH_PROFILE=FILE the bot runs under cProfile (main thread only) and writes FILE; with
BENCH_WRAP="CMD ARGS" the bot's command line is prefixed with it, e.g. a sampling profiler that
sees every thread: BENCH_WRAP="py-spy record --nonblocking -f raw -o bot.txt --" (the bot
then gets SIGINT, so the profiler writes its file). "cpu ms/upd" is the bot process's CPU time
with the processes it started (papi-bot's database process; all threads, /proc) over the
measured updates: on a shared machine it is steadier than
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
OPEN_LOOP_SECONDS = 10  # the open-loop round sends at most this long
TO_ECHO = ("updates/s", "cpu ms/upd", "  loop thread")  # the durable floor ÷ the echo bot


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


def family(pid: int) -> list[int]:
    """``pid`` and every process it started (papi-bot's database process), deepest last."""
    parents: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(fields[1])].append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of the process and those it started, so far (all their
    threads; ``thread``: only that one of ``pid``, e.g. the main thread, whose id is the pid:
    the event loop's)."""
    if thread is not None:
        return _cpu(f"/proc/{pid}/task/{thread}/stat")
    return sum(_cpu(f"/proc/{member}/stat") for member in family(pid))


def _cpu(where: str) -> float:
    try:
        fields = Path(where).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float | None:
    """The peak resident memory of the process plus each one it started (their VmHWM:
    at least the peak of the sum, never less)."""
    peaks = [_peak_mb(member) for member in family(pid)]
    known = [peak for peak in peaks if peak is not None]
    return sum(known) if known else None


def _peak_mb(pid: int) -> float | None:
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
        self.answered = 0
        self.counted = asyncio.Event()  # set whenever an answer arrives
        self.first_answer: float | None = None  # perf_counter of the first answer

    def sent(self, item: SentMessage) -> None:
        if self.first_answer is None:
            self.first_answer = time.perf_counter()
        queue = self.waiting[item.chat_id]
        if queue:
            started = queue.popleft()
            if self.recording:
                self.samples.append(time.perf_counter() - started)
            self.answered += 1
            self.counted.set()
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


async def settle(pid: int, limit: float, quiet: float = 0.05, window: float = 0.5) -> None:
    """Until the process spends under ``quiet`` of a core over ``window`` seconds (its
    start-up work — the scheduler's first sweep, digests — is over), at most ``limit`` seconds."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(window)
        if cpu_seconds(pid) - before < quiet * window:
            return


async def open_loop(
    fake: FakeTelegram, latencies: Latencies, work: dict[int, list[str]], rate: float
) -> None:
    """One message every 1/rate s, round robin over the officials (each writes rarely, so
    no per-chat pacing is involved); waits for every answer."""
    queue = [
        (user, texts[k])
        for k in range(max(map(len, work.values())))
        for user, texts in work.items()
        if k < len(texts)
    ][: max(1, int(rate * OPEN_LOOP_SECONDS))]
    start = time.perf_counter()
    pending = []
    for n, (user, text) in enumerate(queue):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        chat = str(user)
        latencies.waiting[chat].append(time.perf_counter())
        latencies.events[chat].clear()
        pending.append(asyncio.create_task(fake.inject_message(user, text)))
    await asyncio.gather(*pending)
    target = latencies.answered + sum(len(q) for q in latencies.waiting.values())
    async with asyncio.timeout(60):
        while latencies.answered < target:
            latencies.counted.clear()
            await latencies.counted.wait()


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def measure(
    command: list[str],
    env: dict[str, str],
    fake: FakeTelegram,
    warmup: dict[int, list[str]],
    work: dict[int, list[str]],
    rounds: int,
    rate: float,
    settle_seconds: float,
) -> dict[str, list[float]]:
    """Per round (closed loop): updates/s, CPU per update, p50/p99; then one open-loop
    round at ``rate`` updates/s: its p50/p99; peak memory and time to the first poll."""
    latencies = Latencies()
    fake.on_sent = latencies.sent
    spawned = time.perf_counter()
    ready: list[float] = []  # when the bot first polled: started and connected
    ready_cpu: list[float] = []  # the bot's CPU seconds by then (steadier than wall time)
    pids: list[int] = []
    polls = fake._m_getUpdates
    polled = [0]  # getUpdates calls so far

    async def poll(params: dict[str, Any]) -> web.Response:
        if not ready:
            ready.append(time.perf_counter() - spawned)
            ready_cpu.extend(cpu_seconds(pid) for pid in pids)
        polled[0] += 1
        return await polls(params)

    fake._m_getUpdates = poll  # type: ignore[method-assign]
    proc = await asyncio.create_subprocess_exec(
        *command,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    pids.append(proc.pid)
    figures: dict[str, list[float]] = defaultdict(list)
    count = sum(len(t) for t in work.values())
    try:
        await asyncio.gather(*(converse(fake, latencies, u, t) for u, t in warmup.items()))
        await settle(proc.pid, settle_seconds)
        for _ in range(rounds):
            latencies.samples = []
            latencies.recording = True
            started, cpu = time.perf_counter(), cpu_seconds(proc.pid)
            loop_cpu, polls_before = cpu_seconds(proc.pid, proc.pid), polled[0]
            own_cpu = _cpu(f"/proc/{proc.pid}/stat")
            await asyncio.gather(*(converse(fake, latencies, u, t) for u, t in work.items()))
            elapsed, cpu = time.perf_counter() - started, cpu_seconds(proc.pid) - cpu
            loop_cpu = cpu_seconds(proc.pid, proc.pid) - loop_cpu
            own_cpu = _cpu(f"/proc/{proc.pid}/stat") - own_cpu
            figures["updates/s"].append(count / elapsed)
            figures["cpu ms/upd"].append(1000 * cpu / count)
            # The main thread runs the event loop (aiogram, aiohttp, the outbox's logic); the
            # others are the database threads (and the scheduler's); on SQLite papi-bot's
            # database work is in a process of its own.
            figures["  loop thread"].append(1000 * loop_cpu / count)
            figures["  other threads"].append(1000 * (own_cpu - loop_cpu) / count)
            figures["  child process"].append(1000 * (cpu - own_cpu) / count)
            # Updates per getUpdates answer: a bot that polls again only once it handled the
            # last answer's updates gets more per poll, and pays less per update for polling.
            figures["upd/getUpdates"].append(count / max(1, polled[0] - polls_before))
            figures["p50 ms"].append(_percentile(latencies.samples, 0.5))
            figures["p99 ms"].append(_percentile(latencies.samples, 0.99))
        if rate > 0:
            latencies.samples = []
            await settle(proc.pid, settle_seconds)
            await open_loop(fake, latencies, work, rate)
            figures[f"p50 @{rate:g}/s"].append(_percentile(latencies.samples, 0.5))
            figures[f"p99 @{rate:g}/s"].append(_percentile(latencies.samples, 0.99))
        figures["peak MB"].append(peak_memory_mb(proc.pid) or float("nan"))
        figures["ready s"].append(ready[0] if ready else float("nan"))
        figures["ready cpu s"].append(ready_cpu[0] if ready_cpu else float("nan"))
        first = latencies.first_answer
        figures["answer s"].append(first - spawned if first is not None else float("nan"))
    finally:
        if os.environ.get("BENCH_WRAP"):
            proc.send_signal(signal.SIGINT)  # a wrapping profiler writes its file on ^C
        else:
            proc.terminate()
        await proc.wait()
    return figures


def _ratio(figure: list[float], base: list[float]) -> str:
    median = statistics.median(base)
    if not median:
        return f"{'—':>8}"
    ratio = statistics.median(figure) / median
    return f"{0.0 if abs(ratio) < 0.005 else ratio:>7.2f}×"  # never "-0.00×"


def _table(
    papi: dict[str, list[float]], floor: dict[str, list[float]], echo: dict[str, list[float]]
) -> None:
    """papi-bot, the durable floor, the echo bot; then papi-bot ÷ each (medians). Under 100
    columns."""
    names = "".join(f"{name:>22}" for name in ("papi-bot", "durable floor", "aiogram echo"))
    print(f"{'':<14}{names}{'÷floor':>8}{'÷echo':>8}")
    for key in papi:
        columns = "".join(f"{_show(bot[key]):>22}" for bot in (papi, floor, echo))
        print(f"{key:<14}{columns}{_ratio(papi[key], floor[key])}{_ratio(papi[key], echo[key])}")


def _number(value: float, digits: int) -> str:
    """``digits`` significant digits, but never an exponent (1195, not 1.2e+03: a column
    stays 22 wide)."""
    if abs(value) < 0.005:  # a difference of CPU clocks that is zero but for rounding
        return "0"
    return f"{value:.0f}" if abs(value) >= 10**digits else f"{value:.{digits}g}"


def _show(values: list[float]) -> str:
    median = _number(statistics.median(values), 4)
    if len(values) == 1:
        return median
    return f"{median} ({_number(min(values), 3)}–{_number(max(values), 3)})"


async def bench(
    messages: int,
    officials: int,
    rounds: int = 3,
    rate: float = 20,
    settle_seconds: float = 20,
    *,
    db_process: bool = True,
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-telegram-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    people = prepare(url, officials)
    per_user = max(1, messages // officials)
    users = {FIRST_USER + n: person for n, person in enumerate(people)}

    results: dict[str, dict[str, list[float]]] = {}
    # papi-bot: register (warm-up), then status replies.
    fake = FakeTelegram(TOKEN)
    await fake.start()
    config = tmp / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\nprocess = {str(db_process).lower()}\n\n'
        f'[telegram]\napi_base = "{fake.base_url}"\n'
        "global_rate_per_second = 100000\nper_chat_rate_per_second = 100000\n\n"
        # The guard stays on (its cost counts), but many replies a minute are the point here.
        "[flood]\nmessages_per_minute = 1000\n",
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
    results["papi-bot"] = await measure(
        command, env, fake, warmup, work, rounds, rate, settle_seconds
    )
    await fake.stop()

    # The durable floor (the same transaction and outbox commits in bare sqlite3) and the
    # bare aiogram echo bot, each on a fresh fake server: files of their own that import
    # aiogram and the standard library only.
    links = {u: [f"/start {','.join(map(str, ids))}"] for u, (_code, ids) in users.items()}
    for name, script, hello in (
        ("durable floor", "floor_bot.py", links),
        ("aiogram echo", "echo_bot.py", {u: ["hi"] for u in users}),
    ):
        fake = FakeTelegram(TOKEN)
        await fake.start()
        env = {**os.environ, "BENCH_API_BASE": fake.base_url, "BENCH_TOKEN": TOKEN}
        env["BENCH_DB"] = str(tmp / "floor.db")
        results[name] = await measure(
            [sys.executable, str(Path(__file__).with_name(script))],
            env,
            fake,
            hello,
            work,
            rounds,
            rate,
            settle_seconds,
        )
        await fake.stop()

    print(
        f"{messages} status replies from {officials} officials (closed loop) × {rounds} rounds,"
        f" then {messages} at {rate:g}/s (open loop), fake Bot API; median (min–max)"
    )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    _table(results["papi-bot"], results["durable floor"], results["aiogram echo"])
    floor, echo = results["durable floor"], results["aiogram echo"]
    print(  # what durability itself costs in Python, beside the framework alone
        "durable floor ÷ echo:"
        + ",".join(f" {key.strip()} {_ratio(floor[key], echo[key]).strip()}" for key in TO_ECHO)
    )
    print("goals (÷echo): updates/s ≥ 0.7×, CPU per update ≤ 2×, p99 at 20/s ≤ 50 ms, peak ≤ 1.3×")


def main(argv: Sequence[str] | None = None, run: Callable[..., object] = asyncio.run) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--officials", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20, help="open-loop round, updates/s")
    parser.add_argument("--tiny", action="store_true", help="seconds, for CI: figures mean nothing")
    parser.add_argument(
        "--db-threads",
        action="store_true",
        help="papi-bot with [database] process = false (its database work in a thread)",
    )
    args = parser.parse_args(argv)
    if args.tiny:  # tests/e2e/test_benchmarks_tiny.py: the script must still run
        # 40 replies: the CPU clock of /proc ticks every 10 ms, and 4 could all fall in one
        args.messages, args.officials, args.rounds, args.rate = 40, 4, 1, 20
    settle_seconds = 2.0 if args.tiny else 20.0  # at most, waiting for the bot to be idle
    run(
        bench(
            args.messages,
            args.officials,
            args.rounds,
            args.rate,
            settle_seconds,
            db_process=not args.db_threads,
        )
    )


if __name__ == "__main__":
    main()
