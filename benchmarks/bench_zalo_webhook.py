"""Webhook updates/s: the Zalo Bot adapter against the Telegram adapter, same process, same run.

One real ``papi-bot run`` with Telegram in webhook mode (aiogram's webhook server) and a Zalo
bot in webhook mode (the shared webhook server, the durable inbox, its worker) against the
two fake servers on 127.0.0.1, no rate limits. M officials per channel (linked with invite
codes on demo data) each send K quick status replies ("<task> 40%"), the next only once the
answer reached the fake (closed loop, M at a time). A round measures one channel, then the
other (the order alternates); printed per channel: the median updates/s over the rounds and
their spread (min–max), the median p50 reply latency, and the load average before and after
(a shared machine: compare the two columns of one run, not runs).

    .venv/bin/python benchmarks/bench_zalo_webhook.py [--officials 10] [--messages 20]
        [--rounds 5] [--tiny]

``--tiny`` (2 officials, 3 messages, 2 rounds) runs it once in seconds: CI does, through
``tests/e2e/test_bench_zalo_webhook.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from bench_telegram import prepare  # noqa: E402  (beside this file)

from tests.fakes.fake_telegram import FakeTelegram  # noqa: E402
from tests.fakes.fake_zalo_bot import FakeZaloBot  # noqa: E402

TG_TOKEN = "777001:BENCH-token-not-secret"
ZALO_TOKEN = "2000:BENCH-zalo-token-not-secret"
SECRET = "bench-webhook-secret-123"
FIRST_TG_USER = 700_000
QUIET_SECONDS = 1.0  # no answer for this long: the warm-up's extra messages are all in


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Answers:
    """Matches each answer to the oldest unanswered message of its chat."""

    waiting: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    events: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    samples: list[float] = field(default_factory=list)
    any: asyncio.Event = field(default_factory=asyncio.Event)
    last_text: str = ""  # for a check that the replies were status changes, not refusals

    def arrived(self, chat_id: str, text: str | None) -> None:
        self.any.set()
        self.last_text = text or ""
        queue = self.waiting[chat_id]
        if queue:
            self.samples.append(time.perf_counter() - queue.popleft())
        self.events[chat_id].set()

    def reset(self) -> None:
        self.waiting.clear()
        self.samples = []


Inject = Callable[[str, str], Awaitable[object]]


async def converse(answers: Answers, inject: Inject, chat: str, texts: Sequence[str]) -> None:
    for text in texts:
        event = answers.events[chat]
        event.clear()
        answers.waiting[chat].append(time.perf_counter())
        await inject(chat, text)
        await asyncio.wait_for(event.wait(), 60)


@dataclass
class Channel:
    name: str
    inject: Inject
    answers: Answers
    work: dict[str, list[str]]
    rates: list[float] = field(default_factory=list)
    p50s: list[float] = field(default_factory=list)

    async def round(self) -> None:
        self.answers.reset()
        started = time.perf_counter()
        await asyncio.gather(
            *(converse(self.answers, self.inject, c, t) for c, t in self.work.items())
        )
        elapsed = time.perf_counter() - started
        self.rates.append(sum(len(t) for t in self.work.values()) / elapsed)
        self.p50s.append(1000 * statistics.median(self.answers.samples))


async def quiet(answers: Answers) -> None:
    """Until no answer came for QUIET_SECONDS."""
    while True:
        answers.any.clear()
        try:
            await asyncio.wait_for(answers.any.wait(), QUIET_SECONDS)
        except TimeoutError:
            return


def config_text(url: str, telegram: FakeTelegram, zalo: FakeZaloBot, tg_port: int) -> str:
    zalo_port = free_port()
    return (
        f'[database]\nurl = "{url}"\n\n[web]\nenabled = false\n\n'
        f'[telegram]\napi_base = "{telegram.base_url}"\nmode = "webhook"\n'
        f'webhook_url = "http://127.0.0.1:{tg_port}/tg/hook"\n'
        f'webhook_host = "127.0.0.1"\nwebhook_port = {tg_port}\n'
        "global_rate_per_second = 100000\nper_chat_rate_per_second = 100000\n\n"
        f'[zalo]\napi_base = "{zalo.base_url}"\nmode = "webhook"\n'
        f'webhook_port = {zalo_port}\nwebhook_base_url = "http://127.0.0.1:{zalo_port}"\n'
        "global_rate_per_second = 100000\nper_chat_rate_per_second = 100000\n"
    )


async def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.perf_counter() + seconds
    while not check():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def bench(officials: int, messages: int, rounds: int) -> dict[str, Channel]:
    with tempfile.TemporaryDirectory(prefix="bench-zalo-webhook-") as folder:  # gone at the end
        return await _bench(Path(folder), officials, messages, rounds)


async def _bench(tmp: Path, officials: int, messages: int, rounds: int) -> dict[str, Channel]:
    url = f"sqlite:///{tmp / 'bench.db'}"
    people = prepare(url, 2 * officials)
    telegram, zalo = FakeTelegram(TG_TOKEN), FakeZaloBot(ZALO_TOKEN)
    for fake in (telegram, zalo):
        await fake.start()
    tg_answers, zalo_answers = Answers(), Answers()
    telegram.on_sent = lambda item: tg_answers.arrived(item.chat_id, item.text)
    zalo.on_sent = lambda item: zalo_answers.arrived(item.chat_id, item.text)
    config = tmp / "config.toml"
    config.write_text(config_text(url, telegram, zalo, free_port()), encoding="utf-8")
    env = {
        **os.environ,
        "PAPI_BOT_CONFIG": str(config),
        "TELEGRAM_BOT_TOKEN": TG_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "ZALO_BOT_TOKEN": ZALO_TOKEN,
        "ZALO_WEBHOOK_SECRET": SECRET,
    }
    env.pop("PAPI_BOT_DATABASE_URL", None)
    log = (tmp / "bot.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=REPO_ROOT, env=env, stdout=log, stderr=log
    )

    async def tg_inject(chat: str, text: str) -> object:
        return await telegram.inject_message(int(chat), text)

    async def zalo_inject(chat: str, text: str) -> object:
        return await zalo.inject_message(chat, text)

    def status_texts(ids: list[int]) -> list[str]:
        return [f"{ids[k % len(ids)]} {10 + (k * 7) % 80}%" for k in range(messages)]

    tg_people = {str(FIRST_TG_USER + n): p for n, p in enumerate(people[:officials])}
    zalo_people = {f"zl-{n:05d}": p for n, p in enumerate(people[officials:])}
    channels = {
        "telegram": Channel(
            "telegram",
            tg_inject,
            tg_answers,
            {c: status_texts(ids) for c, (_code, ids) in tg_people.items()},
        ),
        "zalo": Channel(
            "zalo",
            zalo_inject,
            zalo_answers,
            {c: status_texts(ids) for c, (_code, ids) in zalo_people.items()},
        ),
    }
    try:
        await wait_until(
            lambda: telegram.webhook is not None and zalo.webhook is not None, 120, "webhooks"
        )
        await asyncio.gather(
            *(converse(tg_answers, tg_inject, c, [f"/start {p[0]}"]) for c, p in tg_people.items()),
            *(converse(zalo_answers, zalo_inject, c, [p[0]]) for c, p in zalo_people.items()),
        )
        await asyncio.gather(quiet(tg_answers), quiet(zalo_answers))
        order = ["zalo", "telegram"]
        for _ in range(rounds):
            for name in order:
                await channels[name].round()
            order.reverse()
    except BaseException:
        sys.stderr.write((tmp / "bot.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        proc.terminate()
        await proc.wait()
        log.close()
        for fake in (telegram, zalo):
            await fake.stop()
    return channels


def report(channels: dict[str, Channel], officials: int, messages: int, load: str) -> str:
    lines = [
        f"{officials} officials x {messages} status replies per channel and round, "
        f"{len(channels['zalo'].rates)} rounds, webhooks from fake servers on 127.0.0.1",
        f"{'adapter':<10}{'updates/s':>11}{'spread':>16}{'p50 ms':>9}",
    ]
    for name, channel in channels.items():
        spread = f"{min(channel.rates):.1f}–{max(channel.rates):.1f}"
        lines.append(
            f"{name:<10}{statistics.median(channel.rates):>11.1f}{spread:>16}"
            f"{statistics.median(channel.p50s):>9.1f}"
        )
    lines.append(f"load average (1, 5, 15 min): {load}")
    return "\n".join(lines)


def run(argv: Sequence[str] | None = None) -> tuple[str, dict[str, Channel]]:
    """Parse ``argv``, run the benchmark; the printed report and the measured channels."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--officials", type=int, default=10, help="per channel")
    parser.add_argument("--messages", type=int, default=20, help="per official and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tiny", action="store_true", help="2 officials, 3 messages, 2 rounds")
    args = parser.parse_args(argv)
    if args.tiny:
        args.officials, args.messages, args.rounds = 2, 3, 2
    before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    channels = asyncio.run(bench(args.officials, args.messages, args.rounds))
    after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(channels, args.officials, args.messages, f"{before} before, {after} after")
    return text, channels


def main(argv: Sequence[str] | None = None) -> None:
    text, channels = run(argv)
    print(text)
    for channel in channels.values():  # it timed status changes, not refusals or hints
        if "%" not in channel.answers.last_text:
            raise SystemExit(f"{channel.name}: the last reply was not a status change")


if __name__ == "__main__":
    main()
