"""CI runs every script of benchmarks/ once, tiny (issue 11), so none of them can rot.

Speed is not a test here (CI machines are noisy): each script runs with ``--tiny`` as a
subprocess, must exit 0 and print its figures and, where it has one, the baseline it
measures in the same run. The patterns below check the output's shape only, never a
figure's value; a number must be a number, though, so a figure or a baseline that came out
as ``nan`` (nothing measured) fails.

They take 60–80 s of CPU in all, most of it processes starting (importing aiogram costs
about 4 s each: eight bot processes), so they run one per core, slowest first: on an idle
2-core machine about 40 s instead of 70.
``bench_zalo_webhook.py`` has its own test (``test_bench_zalo_webhook.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.pgdb import SERVER_URL

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AT_ONCE = min(3, os.cpu_count() or 1)  # scripts at once: more only contend for the cores
TIMEOUT = 240  # seconds for one script, queued behind the others included

N = r"\d[\d,]*(?:\.\d+)?(?:e[+-]\d+)?"  # a figure: digits, never "nan" or "inf"
SPREAD = rf"{N}(?: \({N}–{N}\))?"  # bench_telegram's "median (min–max)"

Done = subprocess.CompletedProcess[str]


@dataclass(frozen=True)
class Ran:
    done: Done
    left: list[str]  # what the script left in its TMPDIR: it must clean up after itself


@dataclass(frozen=True)
class Bench:
    """A script, what its output must show, and (pattern, how many times) to find it."""

    script: str
    figures: tuple[tuple[str, int], ...]
    # The baseline measured in the same run. Empty: the script has none (benchmarks/README.md
    # says "—" for it); give it one and list it here.
    baselines: tuple[tuple[str, int], ...] = ()
    postgres: bool = False

    def __str__(self) -> str:
        return self.script.removesuffix(".py")


def _rollup_row(label: str) -> tuple[str, int]:
    """A row of bench_rollup's table, for the province and for the nation."""
    return rf"^  {re.escape(label)}\s+{N}\s+{N}\s+{N}$", 2


def _telegram_row(key: str, baseline: bool) -> tuple[str, int]:
    """A row of bench_telegram's table: papi-bot's column, then the durable floor's and the
    echo bot's, and papi-bot ÷ each."""
    tail = rf"\s+{SPREAD}\s+{SPREAD}\s+{N}×\s+{N}×$" if baseline else ""
    return rf"^{re.escape(key)}\s+{SPREAD}{tail}", 1


def _latency_row(phase: str) -> tuple[str, int]:
    return rf"^{phase}\s+replies arrived\s+\d+ \(\+\d+ not\)\s+p50\s+{N} s\s+.*p99\s+{N} s", 1


TELEGRAM_KEYS = (
    "updates/s",
    "cpu ms/upd",
    "upd/getUpdates",
    "p50 ms",
    "p99 ms",
    "p99 @20/s",
    "peak MB",
    "ready s",
)

BENCHES = (
    Bench(
        "bench_startup.py",
        figures=(
            (rf"^papi-bot --help\s+median\s+{N} ms\s+\[.+\]\s+{N}×", 1),
            (rf"^papi-bot status \(opens the DB\)\s+median\s+{N} ms\s+\[.+\]\s+{N}×", 1),
            (rf"^load average {N} {N} {N}; 1 runs each$", 1),
        ),
        baselines=((rf"^python -c pass \(floor\)\s+median\s+{N} ms", 1),),
    ),
    Bench(
        "bench_import.py",
        figures=(
            (rf"^\d{{3}}_\w+\.txt\s+{N} KiB\s+\d+ tasks\s+median\s+{N} ms\s+peak\s+{N} MiB$", 1),
            (r"^store seed 000 \(\d+ units\): \d+ assignments in \d+ ms$", 1),
        ),
    ),
    Bench(
        "bench_units_import.py",
        figures=(
            (rf"^units import \(new\)\s+{N} s$", 1),
            (rf"^officials import \(new\)\s+{N} s$", 1),
            (rf"^units import \(again, unchanged\)\s+{N} s$", 1),
            (rf"^officials import \(again, unchanged\)\s+{N} s$", 1),
            (rf"^peak memory \(RSS\) {N} MiB$", 1),
        ),
    ),
    Bench(
        "profile_status.py",
        figures=(
            (rf"^5 status replies: {N} ms per update \(under cProfile\)$", 1),
            (rf"^without the profiler: {N} ms per update \(CPU {N} ms\)$", 1),
            (rf"^SQL statements per update: {N}$", 1),
            (
                rf"^this thread's CPU per update, alone {N} ms; with a second thread running "
                rf"Python {N} ms \({N}×\)$",
                1,
            ),
            (
                rf"^through the database process, its CPU per update: one at a time {N} ms "
                rf"\(({N}×|—) this thread alone, {N} ms\), all at once {N} ms \(({N}×|—)\); "
                rf"the caller's {N} ms$",
                1,
            ),
            (
                rf"^the applier on the engine {N} ms of CPU per update, on one held connection "
                rf"{N} ms: held ÷ engine {N} \(median of ten alternating pairs\)$",
                1,
            ),
            (r"Ordered by: cumulative time", 1),
            (r"Ordered by: internal time", 1),
        ),
        baselines=(
            (
                rf"^baseline, the same statements and commits replayed by sqlite3 on a copy: "
                rf"CPU {N} ms per update; apply_inbound ÷ baseline {N}×$",
                1,
            ),
        ),
    ),
    Bench(
        "bench_reminders.py",
        figures=(
            (r"^reminders written\s+40$", 1),
            (rf"^sweep \(plan \+ write\)\s+{N} s$", 1),
            (rf"^achieved rate\s+{N} msg/s", 1),
            (r"^429 answers received\s+\d+$", 1),
            (rf"^peak RSS\s+{N} MiB$", 1),
        ),
        # The reference is the limit L the fake server enforces in the run (goal ≥ 0.95 L).
        baselines=((rf"msg/s\s+= {N} of L=100$", 1),),
    ),
    Bench(
        "bench_reply_latency.py",
        figures=(
            _latency_row("burst"),
            (rf"^reply p99 under the burst {N} s: (meets|MISSES) the goal", 1),
        ),
        baselines=(_latency_row("idle"),),
    ),
    Bench(
        "bench_rollup.py",
        figures=(
            (r"^assignments 30  updates 150$", 1),
            _rollup_row("roll-up, running quarter"),
            _rollup_row("roll-up, running quarter + previous quarter"),
            _rollup_row("roll-up, past quarter (update history)"),
            (r"^  peak Python memory of one roll-up: [\d,]+ KiB$", 2),
        ),
        baselines=((rf"^  floor3: a⋈u⋈t GROUP BY dimension, status\s+{N}\s+{N}\s+1\.00$", 2),),
    ),
    Bench(
        "bench_telegram.py",
        figures=(
            (r"^\s+papi-bot\s+durable floor\s+aiogram echo\s+÷floor\s+÷echo$", 1),
            *(_telegram_row(key, baseline=False) for key in TELEGRAM_KEYS),
        ),
        baselines=(
            *(_telegram_row(key, baseline=True) for key in TELEGRAM_KEYS),
            (
                rf"^durable floor ÷ echo: updates/s {N}×, cpu ms/upd {N}×, loop thread {N}×$",
                1,
            ),
        ),
    ),
    Bench(
        "bench_scale.py",
        figures=(
            (rf"^2 worker\(s\):\s+{N} s \(start-up included\),\s+{N} msg/s$", 1),
            (rf"^ratio 2 workers / 1 worker: {N}$", 1),
        ),
        baselines=((rf"^1 worker\(s\):\s+{N} s \(start-up included\),\s+{N} msg/s$", 1),),
        postgres=True,
    ),
)


def _params() -> list[object]:
    params: list[object] = []
    for bench in BENCHES:
        marks = []
        if bench.postgres:  # as the other PostgreSQL tests: run where a server is given
            marks = [
                pytest.mark.postgres,
                pytest.mark.skipif(not SERVER_URL, reason="set PAPI_BOT_TEST_POSTGRES_URL"),
            ]
        params.append(pytest.param(bench, id=str(bench), marks=marks))
    return params


def _run(bench: Bench, tmp: Path) -> Ran:
    env = {**os.environ, "TMPDIR": str(tmp)}  # what a script leaves behind stays in pytest's
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    for name in ("PAPI_BOT_DATABASE_URL", "PAPI_BOT_CONFIG", "TELEGRAM_BOT_TOKEN"):
        env.pop(name, None)  # a developer's own database or bot must never be touched
    if bench.postgres:
        assert make_url(SERVER_URL).host in ("127.0.0.1", "localhost"), "tests use 127.0.0.1"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / bench.script), "--tiny"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return Ran(done, sorted(path.name for path in tmp.iterdir()))


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Ran]]]:
    """Every selected, runnable script started (AT_ONCE at a time), slowest first."""
    selected = [
        item.callspec.params["bench"]
        for item in request.session.items  # after -k and deselection: only what will run
        if isinstance(item, pytest.Function)
        and item.module is request.module
        and hasattr(item, "callspec")
    ]
    runnable = [
        bench
        for bench in selected
        if isinstance(bench, Bench) and (SERVER_URL or not bench.postgres)
    ]
    order = {"bench_scale.py": 0, "bench_telegram.py": 1}  # the longest: start them first
    runnable.sort(key=lambda bench: order.get(bench.script, 2))
    with ThreadPoolExecutor(AT_ONCE) as pool:
        yield {
            bench.script: pool.submit(_run, bench, tmp_path_factory.mktemp(str(bench)))
            for bench in runnable
        }


def _missing(text: str, expected: tuple[tuple[str, int], ...]) -> list[str]:
    return [
        pattern
        for pattern, times in expected
        if len(re.findall(pattern, text, re.MULTILINE)) < times
    ]


@pytest.mark.parametrize("bench", _params())
def test_the_tiny_run_prints_its_figures_beside_its_baseline(
    bench: Bench, runs: dict[str, Future[Ran]]
) -> None:
    ran = runs[bench.script].result()
    done = ran.done
    output = done.stdout + done.stderr  # some scripts print their figures on stderr
    assert done.returncode == 0, f"{bench.script} --tiny exited {done.returncode}:\n{output}"
    assert not _missing(output, bench.figures), (_missing(output, bench.figures), output)
    assert not _missing(output, bench.baselines), (_missing(output, bench.baselines), output)
    assert ran.left == [], f"{bench.script} left its files in the temporary folder: {ran.left}"


def test_every_benchmark_script_is_run_tiny_somewhere() -> None:
    """A new script in benchmarks/ must join BENCHES (or have a test of its own)."""
    covered = {bench.script for bench in BENCHES} | {"bench_zalo_webhook.py"}
    covered |= {"echo_bot.py", "floor_bot.py"}  # not benchmarks: bench_telegram's baselines
    scripts = {path.name for path in (ROOT / "benchmarks").glob("*.py")}
    assert scripts == covered
