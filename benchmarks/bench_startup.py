"""Start-up of the CLI, side by side with a bare interpreter measured in the same run.

Prints the wall time of ``python -c pass`` (the floor), ``papi-bot --help``, a few commands'
``--help`` and ``papi-bot status`` on a fresh database (a command that opens the database),
each the median and spread of several runs, with the machine's load average. The goal of
issue 11 is every CLI command within 1 s on an idle machine.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7] [--tiny]

``--tiny`` (one run of ``--help`` and ``status`` only) is what CI runs, so the script cannot
rot (``tests/e2e/test_benchmarks_tiny.py``); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

GOAL_S = 1.0


def _papi_bot() -> list[str]:
    script = Path(sys.executable).with_name("papi-bot")
    found = str(script) if script.exists() else shutil.which("papi-bot")
    return [found] if found else [sys.executable, "-m", "bot"]


def wall(argv: Sequence[str], env: dict[str, str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter() - start)
        if done.returncode:  # the time of a failure is not the command's start-up
            error = done.stderr.decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{error}")
    return samples


def line(label: str, samples: list[float], floor: float | None) -> str:
    median = statistics.median(samples)
    ratio = f"{median / floor:6.1f}×" if floor else "      "
    verdict = "" if floor is None else ("  ok" if median <= GOAL_S else "  over 1 s")
    return (
        f"{label:<34} median {1000 * median:7.0f} ms  "
        f"[{1000 * min(samples):5.0f}–{1000 * max(samples):5.0f}]  {ratio}{verdict}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tiny", action="store_true", help="one run of two commands (CI)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.runs = 1
    papi = _papi_bot()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        config.write_text(f'[database]\nurl = "sqlite:///{folder}/bench.db"\n', encoding="utf-8")
        env = {**os.environ, "PAPI_BOT_CONFIG": str(config)}
        env.pop("TELEGRAM_BOT_TOKEN", None)
        env.pop("PAPI_BOT_DATABASE_URL", None)  # it would win over the fresh database
        wall([*papi, "init"], env, 1)
        cases: list[tuple[str, list[str]]] = [
            ("papi-bot --help", [*papi, "--help"]),
            ("papi-bot report --help", [*papi, "report", "--help"]),
            ("papi-bot import-plan --help", [*papi, "import-plan", "--help"]),
            ("papi-bot status (opens the DB)", [*papi, "status"]),
            ("papi-bot units list (opens the DB)", [*papi, "units", "list"]),
        ]
        if args.tiny:  # one command that only imports, one that opens the database
            cases = [cases[0], cases[3]]
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.runs} runs each")
        bare = wall([sys.executable, "-c", "pass"], env, args.runs)
        floor = statistics.median(bare)
        print(line("python -c pass (floor)", bare, None))
        for label, command in cases:
            print(line(label, wall(command, env, args.runs), floor))


if __name__ == "__main__":
    main()
