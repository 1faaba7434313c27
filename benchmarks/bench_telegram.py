"""Status replies through the fake Bot API server: papi-bot vs. the durable floor and a bare
aiogram echo bot.

M officials (linked with invite codes on demo data) each send N/M quick status replies
("<task> 40%"), one after another: the next only once the bot's answer arrived (closed loop,
M at a time). The bots run as real processes that long-poll the same kind of fake server
(127.0.0.1, no rate limits, so the bots' own ceilings show), side by side, each on a server
of its own: their rounds run in turn (the order rotated each round), and each ratio is the
median of the ratios of rounds run seconds apart (the machine's speed drifts within a
minute: on 3 December the echo bot's own CPU per update moved between 0.75 and 1.58 ms from
one run to the next). Printed per bot: updates/s, p50/p99 reply latency (update injected →
answer received by the server), the process's peak memory (VmHWM, with its database
process's added), "ready": seconds from starting the process to its first getUpdates
(``papi-bot run`` connected and polling) with the CPU seconds the process had used by then
("(cpu s)", steadier on a shared machine), and "answer": seconds from starting the process
to its first answer (to a message that was waiting when it started). The echo bot is
benchmarks/echo_bot.py, a file importing aiogram and nothing else: its "ready" is the floor
of any aiogram bot on the machine. The "durable floor" is benchmarks/floor_bot.py (aiogram
and the standard library): the cheapest bot that keeps papi-bot's durability contract, the
same SQL statements and commits per update in bare sqlite3 on one database thread, without
the ORM or the conversation. papi-bot ÷ floor is what the ORM and the conversation cost;
floor ÷ echo (printed under the table) is what durability itself costs in Python.

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


class Measured:
    """One bot, started on its own fake server, measured round by round (``bench`` runs the
    bots' rounds in turn, so each ratio pairs rounds a few seconds apart: the machine's speed
    drifts within a minute). Per closed-loop round: updates/s, CPU per update, p50/p99; at
    the end one open-loop round at ``rate`` updates/s (its p50/p99), peak memory and the time
    to the first poll."""

    def __init__(self, command: list[str], env: dict[str, str], fake: FakeTelegram) -> None:
        self.command, self.env, self.fake = command, env, fake
        self.latencies = Latencies()
        fake.on_sent = self.latencies.sent
        self.figures: dict[str, list[float]] = defaultdict(list)
        self.ready: list[float] = []  # when the bot first polled: started and connected
        self.ready_cpu: list[float] = []  # its CPU seconds by then (steadier than wall time)
        self.polled = 0  # getUpdates calls so far
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned = 0.0  # when the process was started (perf_counter)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, warmup: dict[int, list[str]], settle_seconds: float) -> None:
        spawned = self.spawned = time.perf_counter()
        polls = self.fake._m_getUpdates

        async def poll(params: dict[str, Any]) -> web.Response:
            if not self.ready:
                self.ready.append(time.perf_counter() - spawned)
                self.ready_cpu.append(cpu_seconds(self.pid))
            self.polled += 1
            return await polls(params)

        self.fake._m_getUpdates = poll  # type: ignore[method-assign]
        self.proc = await asyncio.create_subprocess_exec(
            *self.command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.gather(
            *(converse(self.fake, self.latencies, u, t) for u, t in warmup.items())
        )
        await settle(self.pid, settle_seconds)

    async def round(self, work: dict[int, list[str]]) -> None:
        """One closed-loop round: every official's replies, each after the last answer."""
        pid, figures, latencies = self.pid, self.figures, self.latencies
        count = sum(len(t) for t in work.values())
        latencies.samples = []
        latencies.recording = True
        started, cpu = time.perf_counter(), cpu_seconds(pid)
        loop_cpu, polls_before = cpu_seconds(pid, pid), self.polled
        own_cpu = _cpu(f"/proc/{pid}/stat")
        await asyncio.gather(*(converse(self.fake, latencies, u, t) for u, t in work.items()))
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
        loop_cpu = cpu_seconds(pid, pid) - loop_cpu
        own_cpu = _cpu(f"/proc/{pid}/stat") - own_cpu
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
        figures["upd/getUpdates"].append(count / max(1, self.polled - polls_before))
        figures["p50 ms"].append(_percentile(latencies.samples, 0.5))
        figures["p99 ms"].append(_percentile(latencies.samples, 0.99))

    async def finish(self, work: dict[int, list[str]], rate: float, settle_seconds: float) -> None:
        """The open-loop round, then the figures of the whole run; stops the bot."""
        figures, latencies = self.figures, self.latencies
        try:
            if rate > 0:
                latencies.samples = []
                await settle(self.pid, settle_seconds)
                await open_loop(self.fake, latencies, work, rate)
                figures[f"p50 @{rate:g}/s"].append(_percentile(latencies.samples, 0.5))
                figures[f"p99 @{rate:g}/s"].append(_percentile(latencies.samples, 0.99))
            figures["peak MB"].append(peak_memory_mb(self.pid) or float("nan"))
            figures["ready s"].append(self.ready[0] if self.ready else float("nan"))
            figures["ready cpu s"].append(self.ready_cpu[0] if self.ready_cpu else float("nan"))
            first = latencies.first_answer
            answer = first - self.spawned if first is not None else float("nan")
            figures["answer s"].append(answer)
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        if os.environ.get("BENCH_WRAP"):
            self.proc.send_signal(signal.SIGINT)  # a wrapping profiler writes its file on ^C
        else:
            self.proc.terminate()
        await self.proc.wait()


def _ratio(figure: list[float], base: list[float]) -> str:
    """The median of the ratios of rounds run one after the other (paired), or of the
    medians when the figures are not per round."""
    if len(figure) == len(base) and all(base):
        ratios = [f / b for f, b in zip(figure, base, strict=True)]
        ratio = statistics.median(ratios)
    elif statistics.median(base):
        ratio = statistics.median(figure) / statistics.median(base)
    else:
        return f"{'—':>8}"
    return f"{0.0 if abs(ratio) < 0.005 else ratio:>7.2f}×"  # never "-0.00×"


def _table(
    papi: dict[str, list[float]], floor: dict[str, list[float]], echo: dict[str, list[float]]
) -> None:
    """papi-bot, the durable floor, the echo bot; then papi-bot ÷ each (the median of the
    paired rounds' ratios, ``_ratio``). Under 100 columns."""
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


def _stop_on_sigterm() -> None:
    """SIGTERM cancels the benchmark as ^C does (``asyncio.run``), so its ``finally`` stops
    the bots it started instead of leaving them polling (they were, once: a killed run's
    bots idled on through the next runs)."""
    task = asyncio.current_task()
    if task is None:
        return
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        return


async def bench(
    messages: int,
    officials: int,
    rounds: int = 3,
    rate: float = 20,
    settle_seconds: float = 20,
    *,
    db_process: bool = True,
) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as folder:  # gone at the end
        await _bench(Path(folder), messages, officials, rounds, rate, settle_seconds, db_process)


async def _bench(
    tmp: Path,
    messages: int,
    officials: int,
    rounds: int,
    rate: float,
    settle_seconds: float,
    db_process: bool,
) -> None:
    url = f"sqlite:///{tmp / 'bench.db'}"
    people = prepare(url, officials)
    per_user = max(1, messages // officials)
    users = {FIRST_USER + n: person for n, person in enumerate(people)}

    # papi-bot: register (warm-up), then status replies.
    fakes = [FakeTelegram(TOKEN) for _ in range(3)]
    for fake in fakes:
        await fake.start()
    config = tmp / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\nprocess = {str(db_process).lower()}\n\n'
        f'[telegram]\napi_base = "{fakes[0].base_url}"\n'
        "global_rate_per_second = 100000\nper_chat_rate_per_second = 100000\n\n"
        # The guard stays on (its cost counts), but many replies a minute are the point here.
        "[flood]\nmessages_per_minute = 1000\n",
        encoding="utf-8",
    )
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PAPI_BOT_CONFIG": str(config)}
    work = {
        u: [f"{ids[k % len(ids)]} {10 + (k * 7) % 80}%" for k in range(per_user)]
        for u, (_code, ids) in users.items()
    }
    profile = os.environ.get("BENCH_PROFILE")  # a file: cProfile the bot into it
    command = [sys.executable, "-m", "bot", "run"]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "bot", "run"]
    command = shlex.split(os.environ.get("BENCH_WRAP", "")) + command
    bots = {"papi-bot": Measured(command, env, fakes[0])}
    hello = {"papi-bot": {u: [f"/start {code}"] for u, (code, _ids) in users.items()}}
    # The durable floor (the same transaction and outbox commits in bare sqlite3) and the
    # bare aiogram echo bot, each on a fake server of its own: files of their own that import
    # aiogram and the standard library only.
    hello["durable floor"] = {
        u: [f"/start {','.join(map(str, ids))}"] for u, (_code, ids) in users.items()
    }
    hello["aiogram echo"] = {u: ["hi"] for u in users}
    for (name, script), fake in zip(
        (("durable floor", "floor_bot.py"), ("aiogram echo", "echo_bot.py")), fakes[1:], strict=True
    ):
        base_env = {**os.environ, "BENCH_API_BASE": fake.base_url, "BENCH_TOKEN": TOKEN}
        base_env["BENCH_DB"] = str(tmp / "floor.db")
        bots[name] = Measured(
            [sys.executable, str(Path(__file__).with_name(script))], base_env, fake
        )
    _stop_on_sigterm()  # the bots are stopped below, not left running when this one is
    try:
        for name, one in bots.items():  # one at a time: "ready" with the others idle
            await one.start(hello[name], settle_seconds)
        order = list(bots.values())
        for r in range(rounds):  # in turn, each round in a rotated order
            turn = r % len(order)
            for one in order[turn:] + order[:turn]:
                await one.round(work)
        for one in bots.values():
            await one.finish(work, rate, settle_seconds)
    finally:
        for one in bots.values():
            await one.stop()
        for fake in fakes:
            await fake.stop()
    results = {name: one.figures for name, one in bots.items()}

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
    try:
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
    except asyncio.CancelledError:  # SIGTERM (_stop_on_sigterm): the bots were stopped
        sys.exit("bench_telegram: stopped before its end; the bots it started are stopped too")


if __name__ == "__main__":
    main()
